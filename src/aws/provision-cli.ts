/** `npm run provision`: create or update the bucket, queue and notification from the environment. */
import { loadConfig } from '../config.js';
import { createAwsClients, destroyAwsClients } from './clients.js';
import { provision, provisionOptions } from './provision.js';

const config = loadConfig();
const aws = createAwsClients(config);
const r = await provision(aws, provisionOptions(config));
destroyAwsClients(aws);
console.log(JSON.stringify(r, null, 2));
