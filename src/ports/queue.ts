/**
 * The queue port: the SQS calls the worker's consumer loops make (receive, delete, change
 * visibility), sending (webhook deliveries, optionally delayed), the depth (the deliveries
 * DLQ is watched) and the api's readiness probe. src/aws/queue.ts implements it over SQS,
 * src/memory/queue.ts in memory with the same visibility-timeout semantics.
 */

export interface QueueMessage {
  id: string;
  /** Identifies this receive of the message: delete and visibility changes need it. */
  receipt: string;
  body: string;
  /** How often the message has been received, this time included. */
  receiveCount: number;
}

export interface ReceiveOptions {
  max: number;
  /** Long-poll time in seconds. */
  waitSeconds: number;
  /** Seconds a received message stays hidden from other receivers. */
  visibilitySeconds: number;
  signal?: AbortSignal;
}

export interface Queue {
  receive(opts: ReceiveOptions): Promise<QueueMessage[]>;
  /** Deletes messages by receipt; returns the receipts that could not be deleted. */
  delete(receipts: string[]): Promise<string[]>;
  /** Sets each message's remaining invisibility (0 hands it back at once); returns the receipts that failed. */
  setVisibility(entries: { receipt: string; seconds: number }[]): Promise<string[]>;
  /** Sends one message, hidden for `delaySeconds` (0..900) first; resolves with its id once the queue holds it. */
  send(body: string, opts?: { delaySeconds?: number }): Promise<string>;
  /** Messages on the queue, visible, in flight or delayed (approximate on SQS). */
  size(): Promise<number>;
  /** Whether the queue answers (readiness); throws when it does not. */
  probe(signal?: AbortSignal): Promise<void>;
}
