/**
 * Receives one body chunk. The chunk is valid only during the call: copy what must outlive it. A returned promise asks
 * for no more chunks until it settles.
 */
export type Take = (chunk: Buffer) => Promise<void> | undefined;

/** An answer whose head is in: the body is then pushed chunk by chunk to whoever takes it. */
export interface BulkResponse {
  status: number;
  statusMessage: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  /**
   * Hand every body chunk to `take`, waiting whenever it returns a promise. Resolves at the end of the body; rejects
   * when the connection fails or `take` throws, and the connection is closed either way.
   */
  body(take: Take): Promise<void>;
  /** Throw the body away and close. */
  discard(): void;
}
