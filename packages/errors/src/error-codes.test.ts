import { describe, expect, it } from "vitest";
import { errorCodes } from "./error-codes.js";
import { errorBody, YumError } from "./yum-error.js";

const beskarStatus: Record<string, number> = {
  InvalidArgument: 400,
  FailedPrecondition: 400,
  OutOfRange: 400,
  Unauthenticated: 401,
  PermissionDenied: 403,
  NotFound: 404,
  AlreadyExists: 409,
  Internal: 500,
  Unavailable: 503,
  DeadlineExceeded: 504,
};

describe("errorCodes", () => {
  it("maps every code to the HTTP status Beskar uses for its Beskar code (except 413/416 on raw content)", () => {
    for (const [code, { httpStatus, beskarCode }] of Object.entries(errorCodes)) {
      // Raw content statuses, and upstream failures surfaced as 502 Bad Gateway.
      if (code === "PAYLOAD_TOO_LARGE" || code === "RANGE_NOT_SATISFIABLE" || code.startsWith("UPSTREAM_"))
        continue;
      expect([code, httpStatus]).toEqual([code, beskarStatus[beskarCode]]);
    }
  });

  it("uses upper snake case codes", () => {
    for (const code of Object.keys(errorCodes)) expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });
});

describe("YumError", () => {
  it("renders Beskar's error body", () => {
    const err = new YumError("REPO_NOT_FOUND", "repository not found");
    expect(err.httpStatus).toBe(404);
    expect(errorBody(err)).toEqual({
      error: { code: "NotFound", reason: "REPO_NOT_FOUND", message: "repository not found" },
    });
  });
});
