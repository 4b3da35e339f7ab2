import { describe, expect, it } from 'vitest';
import { createLogger, scrubText } from './log.ts';
import { logSink } from './worker.fixture.ts';

describe('the worker log', () => {
  it('scrubs userinfo, Bearer and Basic credentials and known secrets from text', () => {
    expect(scrubText('connect redis://:s3cr3t-pass@redis:6379/0 failed', [])).toBe('connect redis://***@redis:6379/0 failed');
    expect(scrubText('Authorization: Bearer eyJhbGciOi.x.y and Basic dXNlcjpwYXNz', [])).toBe('Authorization: Bearer *** and Basic ***');
    expect(scrubText('token is trigger-token-1234567890 here', ['trigger-token-1234567890'])).toBe('token is *** here');
  });

  it('writes JSON lines with fields, redacts credential fields and scrubs messages, nested strings and error stacks', async () => {
    const sink = logSink();
    const secret = 'hunter2-very-secret';
    const logger = createLogger({ level: 'info', secrets: () => [secret], destination: sink });
    const error = new Error(`upstream said ${secret} at redis://user:${secret}@host`);
    logger.error({ owner: 'team-a', source: 'docker.io/library/nginx', target: 'main', password: 'p4ss', nested: { detail: `x ${secret}` }, err: error }, `failed with ${secret}`);
    logger.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [line] = sink.records();
    expect(line).toMatchObject({ level: 50, name: 'scanner-worker', owner: 'team-a', source: 'docker.io/library/nginx', target: 'main', password: '[redacted]', msg: 'failed with ***' });
    expect(sink.text()).not.toContain(secret);
    expect(sink.text()).not.toContain('p4ss');
    expect((line?.['err'] as { message: string; stack: string }).message).toBe('upstream said *** at redis://***@host');
  });
});
