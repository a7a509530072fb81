// The error of an upload that did not happen, apart from the uploader so that code which only
// classifies it does not load the S3 client.

/** An upload that did not happen. `permanent`: retrying cannot help (the store refused). */
export class UploadError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'UploadError';
  }
}
