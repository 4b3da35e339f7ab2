/** An image platform, as in an OCI index entry or an image config. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}
