/** What went wrong in the lab; match on this rather than on the message. */
export type TestLabErrorCode =
  /** A binary the lab needs (docker-registry, skopeo, htpasswd, openssl) is not on PATH. */
  | 'BINARY_MISSING'
  /** A service exited or could not bind before it listened. */
  | 'START_FAILED'
  /** Nothing listened within the allowed time. */
  | 'TIMEOUT'
  /** A short command (skopeo, htpasswd, openssl) failed; its output is in the message, secrets masked. */
  | 'COMMAND_FAILED'
  /** An option or argument the caller gave is invalid; the message quotes it. */
  | 'INVALID_OPTION';

/** The one error type the test lab throws. */
export class TestLabError extends Error {
  override readonly name = 'TestLabError';
  readonly code: TestLabErrorCode;

  constructor(code: TestLabErrorCode, message: string, options?: ErrorOptions) {
    super(message.startsWith('test-lab') ? message : `test-lab: ${message}`, options);
    this.code = code;
  }
}
