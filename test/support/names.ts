/** The test run's own bucket and queues, apart from what `npm run dev` uses. */
export const TEST_ENV = {
  DROPSHIP_BUCKET: 'dropship-test',
  DROPSHIP_QUEUE_NAME: 'dropship-test-events',
  DROPSHIP_DLQ_NAME: 'dropship-test-events-dlq',
  DROPSHIP_DELIVERIES_QUEUE_NAME: 'dropship-test-deliveries',
  DROPSHIP_DELIVERIES_DLQ_NAME: 'dropship-test-deliveries-dlq',
  AWS_REGION: 'us-east-1',
  LOG_LEVEL: 'warn',
} as const;
