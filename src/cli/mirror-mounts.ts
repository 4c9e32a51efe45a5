import { aptMount } from '../apt/handler.js';
import { filesMount } from '../files/handler.js';
import { registryMount } from '../images/registry-handler.js';
import { pipMount } from '../pip/handler.js';
import type { Mount } from '../serving/types.js';

/** What `serve` (and so the installer's mirror) serves from a bundle: the URL map of the README's mirror table. */
export const BUNDLE_MOUNTS: Mount[] = [registryMount, aptMount, pipMount, filesMount];
