import type { Collector } from '../build/context.js';
import { NotImplementedError } from '../errors.js';

// Placeholder until this kind's issue lands.
export const collectApt: Collector = async () => {
  throw new NotImplementedError('collectApt');
};
