import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../config.js';

export async function lookupQueueUrl(sqs: SQSClient, config: Config): Promise<string> {
  if (config.DROPSHIP_QUEUE_URL) return config.DROPSHIP_QUEUE_URL;
  const r = await sqs.send(new GetQueueUrlCommand({ QueueName: config.DROPSHIP_QUEUE_NAME }));
  if (!r.QueueUrl) throw new Error(`queue ${config.DROPSHIP_QUEUE_NAME} not found`);
  return r.QueueUrl;
}
