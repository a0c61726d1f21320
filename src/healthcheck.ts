/*
 * The container's HEALTHCHECK: `node dist/healthcheck.js` exits 0 when the service in
 * this container answers GET /healthz. It asks HEALTH_PORT, which every role opens
 * (a worker-only process has no web server), or PORT when HEALTH_PORT is unset.
 * It reads only these two variables, so it works whatever the role and its arguments.
 */
const port = process.env.HEALTH_PORT || process.env.PORT || '3000';

try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(4000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
