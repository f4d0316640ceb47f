/**
 * deploy/permissions.ts is the one source of dropship's IAM. These tests hold it to the code:
 * every AWS SDK command src/aws sends (and every request a presigned URL carries) maps to IAM
 * actions, and each role whose process runs that code has them — unless NOT_SENT says why its
 * code never sends that command. A store method that starts listing the bucket without the
 * worker being granted s3:ListBucket fails here, not in production. docs/operations.md's IAM
 * section must be what the source generates (`npm run docs:iam`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  actionsOn,
  MODULES_OF,
  NOT_SENT,
  PERMISSIONS,
  PRESIGNED,
  ROLES,
  SDK_COMMANDS,
  withIamSection,
  type ResourceKind,
} from '../../deploy/permissions.js';

const ROOT = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8');

/** The SDK commands a file sends: `new XCommand(`; for the signer, the requests its URLs carry. */
function commandsOf(path: string): string[] {
  const text = read(path);
  const sent = [...text.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]!);
  if (path.endsWith('/signer.ts')) {
    const methods = [...text.matchAll(/^ {4}(?:async )?(sign\w+)\(/gm)].map((m) => m[1]!);
    expect(methods.sort(), 'the Signer methods in src/aws/signer.ts are the keys of PRESIGNED').toEqual(Object.keys(PRESIGNED).sort());
    sent.push(...methods.flatMap((m) => PRESIGNED[m]!));
  }
  return [...new Set(sent)].sort();
}

const AWS_FILES = ['adapters.ts', 'clients.ts', 'provision-cli.ts', 'provision.ts', 'queue.ts', 'signer.ts', 'sigv4.ts', 'store.ts'].map((f) => `src/aws/${f}`);

/** Object-level actions apply to object ARNs, bucket-level ones to the bucket. */
const BUCKET_LEVEL = /^s3:(ListBucket|ListBucketMultipartUploads|CreateBucket|PutBucket|GetBucket|PutLifecycle|GetLifecycle)/;
const QUEUES: ResourceKind[] = ['eventsQueue', 'eventsDlq', 'deliveriesQueue', 'deliveriesDlq'];

function granted(role: (typeof ROLES)[number], action: string): boolean {
  const kinds: ResourceKind[] = action.startsWith('sqs:') ? QUEUES : BUCKET_LEVEL.test(action) ? ['bucket'] : ['objects'];
  return kinds.some((k) => actionsOn(role, k).has(action));
}

describe('IAM from one source (deploy/permissions.ts)', () => {
  it('knows every SDK command src/aws sends', () => {
    const files = read('src/aws/README.md').match(/`(\w[\w-]*\.ts)`/g)!.map((f) => `src/aws/${f.slice(1, -1)}`);
    expect(files.sort(), 'every file of src/aws is scanned').toEqual(AWS_FILES);
    const unknown = AWS_FILES.flatMap(commandsOf).filter((c) => !(c in SDK_COMMANDS));
    expect(unknown, 'add the command and its IAM actions to SDK_COMMANDS').toEqual([]);
  });

  it.each(ROLES)("grants the %s role every action of the commands its code sends", (role) => {
    const missing: string[] = [];
    for (const file of MODULES_OF[role]) {
      for (const command of commandsOf(file)) {
        if (command in NOT_SENT[role]) continue;
        for (const action of SDK_COMMANDS[command]!) if (!granted(role, action)) missing.push(`${file}: ${command} needs ${action}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it.each(ROLES)('lists in NOT_SENT for %s only commands its modules do send (no stale exemptions)', (role) => {
    const sent = new Set(MODULES_OF[role].flatMap(commandsOf));
    expect(Object.keys(NOT_SENT[role]).filter((c) => !sent.has(c))).toEqual([]);
  });

  it.each(ROLES)('grants %s no action that none of its commands needs', (role) => {
    const needed = new Set(
      MODULES_OF[role].flatMap(commandsOf).filter((c) => !(c in NOT_SENT[role])).flatMap((c) => SDK_COMMANDS[c]!),
    );
    const extra = PERMISSIONS[role].flatMap((g) => g.actions).filter((a) => !needed.has(a));
    expect(extra).toEqual([]);
  });

  it('puts object actions on objects and bucket actions on the bucket', () => {
    const misplaced = ROLES.flatMap((role) =>
      PERMISSIONS[role].flatMap((g) =>
        g.actions
          .filter((a) => a.startsWith('s3:'))
          .filter((a) => (BUCKET_LEVEL.test(a) ? g.resources.some((r) => r !== 'bucket') : g.resources.some((r) => r !== 'objects')))
          .map((a) => `${role}: ${a} on ${g.resources.join(',')}`),
      ),
    );
    expect(misplaced).toEqual([]);
  });

  it('both running roles may list the bucket (a missing key would read as 403 without it)', () => {
    expect(actionsOn('api', 'bucket').has('s3:ListBucket')).toBe(true);
    expect(actionsOn('worker', 'bucket').has('s3:ListBucket')).toBe(true);
  });

  it("docs/operations.md's IAM section is what the source generates (npm run docs:iam)", () => {
    const doc = read('docs/operations.md');
    expect(doc).toBe(withIamSection(doc));
  });
});
