import { describe, expect, it } from "vitest";
import { parseRepoJobData, parseSyncJobData } from "./parse-job-data.js";

describe("job payloads read from Redis", () => {
  it("accepts ours", () => {
    expect(parseRepoJobData({ repository: "artifacts/yum/a" })).toEqual({ repository: "artifacts/yum/a" });
    expect(parseSyncJobData({ repository: "artifacts/yum/a", startTime: 0 })).toEqual({
      repository: "artifacts/yum/a",
      startTime: 0,
    });
    expect(parseSyncJobData({ repository: "artifacts/yum/a", startTime: 5, urls: ["http://x/"] })).toEqual({
      repository: "artifacts/yum/a",
      startTime: 5,
      urls: ["http://x/"],
    });
  });

  it.each([
    [undefined, /repo-sync job: expected an object/],
    ["text", /expected an object \(payload "text"\)/],
    [[1], /expected an object/],
    [{ repository: 42, startTime: 1 }, /repository: expected a non-empty string/],
    [{ repository: "", startTime: 1 }, /repository: expected a non-empty string/],
    [{ repository: "artifacts/yum/a" }, /startTime: expected a non-negative integer/],
    [{ repository: "artifacts/yum/a", startTime: 1.5 }, /startTime/],
    [{ repository: "artifacts/yum/a", startTime: 1, urls: "http://x/" }, /urls: expected a non-empty array/],
    [{ repository: "artifacts/yum/a", startTime: 1, urls: [] }, /urls/],
  ])("refuses %j with JOB_INVALID", (data, message) => {
    expect(() => parseSyncJobData(data)).toThrow(message);
    expect(() => parseSyncJobData(data)).toThrow(expect.objectContaining({ code: "JOB_INVALID" }));
  });

  it("cuts a huge payload in the error message", () => {
    const err = (() => {
      try {
        parseRepoJobData({ repository: 1, junk: "x".repeat(10_000) });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message.length).toBeLessThan(300);
  });
});
