import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './lib/config.js';
import type { RunningWorker } from './lib/queue.js';
import { closeContext, createContext } from './runtime.js';
import { closeWorkers, startWorkers } from './workers.js';

const SHUTDOWN_GRACE_MS = 15_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, process.argv.slice(2));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  const ctx = await createContext(config);
  const { logger } = ctx;

  let server: Server | undefined;
  let workers: RunningWorker[] = [];

  if (config.role === 'all' || config.role === 'worker') {
    workers = await startWorkers(ctx);
  }
  if (config.role === 'all' || config.role === 'web') {
    const app = buildApp(ctx);
    server = app.listen(config.port, () => {
      const { port } = server!.address() as AddressInfo;
      logger.info({ port, publicUrl: config.publicUrl, role: config.role }, 'newsroom listening');
      if (config.adminTokenGenerated) {
        // Printed once, to the terminal only: set ADMIN_TOKEN to keep one across restarts.
        console.log(`\nAdmin token for this run (set ADMIN_TOKEN to choose your own):\n  ${config.adminToken}\n`);
      }
    });
    server.on('error', (err) => {
      logger.fatal({ err }, 'could not listen');
      process.exit(1);
    });
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    // Stop taking requests and jobs, let the ones under way finish, then close connections.
    await Promise.all([
      server &&
        new Promise<void>((resolve) => {
          // Keep-alive connections close as soon as their request is answered, not at their timeout.
          const closeIdle = setInterval(() => server.closeIdleConnections(), 100);
          server.close(() => {
            clearInterval(closeIdle);
            resolve();
          });
        }),
      closeWorkers(workers),
    ]);
    await closeContext(ctx);
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error) => {
  console.error('Newsroom could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
