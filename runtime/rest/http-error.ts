/** An answer other than 2xx, sent as Connect's `{error_code, message}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
