import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

/*
 * A real IMAP server for the bounce mailbox tests: Debian's Dovecot (dovecot-imapd, which
 * .ci/run installs), run in the foreground from a configuration of its own in a temporary
 * folder (no system configuration touched), plain IMAP on a free loopback port, one user
 * with a password. As root it runs its processes as Debian's dovecot users; otherwise as
 * the user running the tests.
 */

export const DOVECOT = '/usr/sbin/dovecot';

export interface Dovecot {
  port: number;
  user: string;
  password: string;
  /** imap://user:password@127.0.0.1:port/INBOX */
  url: string;
  close(): Promise<void>;
}


const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('data', (line) => {
      socket.destroy();
      resolve(line.toString().startsWith('* OK'));
    });
    socket.once('error', () => resolve(false));
  });

export async function startDovecot(): Promise<Dovecot> {
  if (!existsSync(DOVECOT)) throw new Error(`${DOVECOT} is missing: apt-get install -y dovecot-imapd (.ci/run does)`);
  const dir = mkdtempSync(path.join(tmpdir(), 'dovecot-'));
  // Dovecot's own processes (not root) reach the mail folder through it.
  chmodSync(dir, 0o755);
  for (const sub of ['run', 'state', 'mail']) mkdirSync(path.join(dir, sub));
  chmodSync(path.join(dir, 'mail'), 0o777);
  const port = await freePort();
  const user = 'bounces';
  const password = 'imap-password-0123456789';
  writeFileSync(path.join(dir, 'users'), `${user}:{PLAIN}${password}\n`);
  const root = process.getuid?.() === 0;
  const me = userInfo().username;
  writeFileSync(
    path.join(dir, 'dovecot.conf'),
    `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
auth_mechanisms = plain login
disable_plaintext_auth = no
mail_location = maildir:${dir}/mail/%u
default_internal_user = ${root ? 'dovecot' : me}
default_login_user = ${root ? 'dovenull' : me}
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=${root ? 'dovecot' : me} gid=${root ? 'dovecot' : userInfo().gid} home=${dir}/mail/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
`,
  );
  const child: ChildProcess = spawn(DOVECOT, ['-F', '-c', path.join(dir, 'dovecot.conf')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => (existsSync(path.join(dir, 'dovecot.log')) ? readFileSync(path.join(dir, 'dovecot.log'), 'utf8') : '');
  const close = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100 && !(await answers(port)); i++) {
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!(await answers(port))) {
    const text = log();
    await close();
    throw new Error(`Dovecot did not start: ${text}`);
  }
  return { port, user, password, url: `imap://${user}:${password}@127.0.0.1:${port}/INBOX`, close };
}
