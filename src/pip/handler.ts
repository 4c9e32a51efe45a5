import type { MirrorHandler } from '../mirror/types.js';

// Placeholder until this kind's issue lands: the mount exists and serves nothing.
export const pipHandler: MirrorHandler = async () => false;
