package io.ferry.controlplane.api;

/** A request the API refuses, with the HTTP status and a message a person can act on. */
public final class ApiError extends RuntimeException {
  private final int status;
  private final String title;

  public ApiError(int status, String title, String detail) {
    super(detail);
    this.status = status;
    this.title = title;
  }

  public int status() {
    return status;
  }

  public String title() {
    return title;
  }

  public static ApiError badRequest(String detail) {
    return new ApiError(400, "bad request", detail);
  }

  public static ApiError notFound(String detail) {
    return new ApiError(404, "not found", detail);
  }

  public static ApiError forbidden(String detail) {
    return new ApiError(403, "forbidden", detail);
  }

  public static ApiError conflict(String detail) {
    return new ApiError(409, "conflict", detail);
  }
}
