/**
 * The AWS clients, built once per process (the composition root hands them to the ports).
 * Emulator-friendly without emulator-specific code paths: an endpoint and path-style
 * addressing when AWS_ENDPOINT_URL is set; otherwise the SDK's normal resolution.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { Config } from '../config.js';

export interface AwsClients {
  s3: S3Client;
  sqs: SQSClient;
  region: string;
  endpoint?: string;
  credentials?: AwsCredentialIdentity;
}

/** LocalStack accepts any key pair; real AWS never sees these (an endpoint must be set). */
function emulatorCredentials(config: Config): AwsCredentialIdentity | undefined {
  if (!config.AWS_ENDPOINT_URL || process.env.AWS_ACCESS_KEY_ID) return undefined;
  return { accessKeyId: 'test', secretAccessKey: 'test' };
}

export function createAwsClients(config: Config): AwsClients {
  const endpoint = config.AWS_ENDPOINT_URL || undefined;
  const credentials = emulatorCredentials(config);
  const common = { region: config.AWS_REGION, ...(endpoint ? { endpoint } : {}), ...(credentials ? { credentials } : {}) };
  const s3 = new S3Client({
    ...common,
    forcePathStyle: config.s3PathStyle,
    // The SDK's default (WHEN_SUPPORTED) adds CRC32 checksums, including an empty-body one
    // on presigned URLs that other S3 implementations reject. Checksums are opt-in here.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const sqs = new SQSClient(common);
  return { s3, sqs, region: config.AWS_REGION, ...(endpoint ? { endpoint } : {}), ...(credentials ? { credentials } : {}) };
}

export function destroyAwsClients(c: AwsClients): void {
  c.s3.destroy();
  c.sqs.destroy();
}
