/** Receives one body chunk; the chunk is only valid until this returns or its promise settles. */
export type Take = (chunk: Buffer) => Promise<void> | undefined;

/** An answer whose body goes to disk: the head, then the body pushed chunk by chunk to whoever takes it. */
export interface BulkResponse {
  status: number;
  statusMessage: string;
  /** Lower-case names. */
  headers: Record<string, string | string[] | undefined>;
  /**
   * Hand every body chunk to `take`, waiting whenever it returns a promise. Resolves at the end of the body; rejects
   * when the connection fails or `take` throws, and the connection is closed either way.
   */
  body(take: Take): Promise<void>;
  /** Throw the body away and close. */
  discard(): void;
}
