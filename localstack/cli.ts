/** `npm run emulator [-- --port N]`: run LocalStack in the foreground until Ctrl-C. */
import { ensureInstalled, startEmulator } from './emulator.js';

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 4566;
if (process.argv.includes('install')) {
  ensureInstalled();
} else {
  const emu = await startEmulator({ port });
  console.error(`local AWS at ${emu.endpoint}; Ctrl-C stops it`);
  const stop = async () => {
    await emu.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (!emu.owned) process.exit(0);
}
