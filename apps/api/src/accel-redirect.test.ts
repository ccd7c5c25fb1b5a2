import { describe, expect, it } from "vitest";
import { accelRedirectTarget } from "./accel-redirect.js";

const front = { "x-sendfile-type": "X-Accel-Redirect", "x-accel-mapping": "/data/=/_files/" };

describe("accelRedirectTarget", () => {
  it("maps a file under the front's directory to its internal location", () => {
    expect(accelRedirectTarget(front, "/data/blobs/ab/abcdef")).toBe("/_files/blobs/ab/abcdef");
    expect(
      accelRedirectTarget(
        { ...front, "x-accel-mapping": "/elsewhere/=/x/, /data/=/_files" },
        "/data/repos/a b/repodata/1-primary.xml.gz",
      ),
    ).toBe("/_files/repos/a%20b/repodata/1-primary.xml.gz");
  });

  it("leaves the body to us when the front did not ask, or the file is not under its directory", () => {
    expect(accelRedirectTarget({}, "/data/blobs/x")).toBeUndefined();
    expect(accelRedirectTarget({ "x-sendfile-type": "X-Accel-Redirect" }, "/data/blobs/x")).toBeUndefined();
    expect(
      accelRedirectTarget({ ...front, "x-sendfile-type": "X-Sendfile" }, "/data/blobs/x"),
    ).toBeUndefined();
    // `/data` must not map `/data2`, and nothing may climb out of the mapped directory.
    expect(
      accelRedirectTarget({ ...front, "x-accel-mapping": "/data=/_files/" }, "/data2/x"),
    ).toBeUndefined();
    expect(accelRedirectTarget(front, "/data2/x")).toBeUndefined();
    expect(accelRedirectTarget(front, "/data/../etc/passwd")).toBeUndefined();
    expect(accelRedirectTarget(front, "/data//x")).toBeUndefined();
    // The internal location must be a path.
    expect(
      accelRedirectTarget({ ...front, "x-accel-mapping": "/data/=http://evil/" }, "/data/x"),
    ).toBeUndefined();
  });
});
