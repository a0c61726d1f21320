import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWebServer } from './lib/bodies.js';
import { type Config, ConfigError, loadConfig, type Role } from './lib/config.js';
import type { Logger } from './lib/logger.js';
import type { RunningWorker } from './lib/queue.js';
import { healthListener } from './health/server.js';
import { closeContext, createContext } from './runtime.js';

class StartError extends Error {}

/** Listens on `port`, or fails saying which port is taken (Express 5 would call back with the error). */
function listen(handler: RequestListener, port: number, variable: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createWebServer(handler);
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new StartError(`${variable}: port ${port} is already in use by another process; stop it or set another ${variable}`));
      } else if (error.code === 'EACCES') {
        reject(new StartError(`${variable}: not allowed to listen on port ${port} (ports below 1024 need privileges); set another ${variable}`));
      } else {
        reject(error);
      }
    });
    server.listen(port, () => resolve(server));
  });
}

/** Outside production the admin token is made once and kept: shown on the first start, located afterwards. */
function announceAdminToken(config: Config, logger: Logger): void {
  if (config.adminTokenOrigin === 'created') {
    // To the terminal only, once: afterwards the file holds it.
    console.log(`\nAdmin token, made on this first start and kept in ${config.adminTokenFile} (readable by you only):\n  ${config.adminToken}\n`);
  } else if (config.adminTokenOrigin === 'kept') {
    logger.info({ adminTokenFile: config.adminTokenFile }, `admin token: kept in ${config.adminTokenFile} (set ADMIN_TOKEN to choose your own)`);
  }
}

/**
 * The modules of a role, loaded for that role only: a worker process never holds the web
 * app (every route, the staff app, image processing), nor a web process the workers.
 * What both need is in runtime.ts; a module a role needs only sometimes is loaded where
 * it is used (the S3 client, MJML, sharp, the bounce receiver and mailbox).
 */
async function loadRole(role: Role) {
  const [web, background] = await Promise.all([
    role === 'worker' ? undefined : import('./app.js'),
    role === 'web' ? undefined : import('./workers.js'),
  ]);
  return { web, background };
}

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

  const { web, background } = await loadRole(config.role);
  const ctx = await createContext(config);
  const { logger } = ctx;
  announceAdminToken(config, logger);
  let stopping = false;

  // The web port first: if it is taken, nothing else has started.
  const server = web ? await listen(web.buildApp(ctx), config.port, 'PORT') : undefined;
  if (server) {
    const { port } = server.address() as AddressInfo;
    logger.info({ port, publicUrl: config.publicUrl, role: config.role }, 'newsroom listening');
  }
  const workers: RunningWorker[] = background ? await background.startWorkers(ctx) : [];
  // Every role answers its health on HEALTH_PORT, unless the web server already has that port.
  const healthServer =
    config.healthPort !== undefined && !(server && config.healthPort === config.port)
      ? await listen(healthListener(ctx, { role: config.role, alive: () => !stopping }), config.healthPort, 'HEALTH_PORT')
      : undefined;
  if (healthServer) {
    logger.info({ healthPort: (healthServer.address() as AddressInfo).port, role: config.role }, 'health endpoint listening');
  }

  const closeServer = (s: Server | undefined) =>
    s &&
    new Promise<void>((resolve) => {
      // Keep-alive connections close as soon as their request is answered, not at their timeout.
      const closeIdle = setInterval(() => s.closeIdleConnections(), 100);
      s.close(() => {
        clearInterval(closeIdle);
        resolve();
      });
    });

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, graceSeconds: config.shutdownGraceMs / 1000 }, 'shutting down');
    const force = setTimeout(() => {
      logger.error({ graceSeconds: config.shutdownGraceMs / 1000 }, 'shutdown took longer than SHUTDOWN_GRACE_SECONDS; exiting');
      process.exit(1);
    }, config.shutdownGraceMs);
    force.unref();
    // Stop taking requests and jobs, let the ones under way finish, then close connections.
    await Promise.all([closeServer(server), closeServer(healthServer), background?.closeWorkers(workers)]);
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
