import { describe, expect, it } from "vitest";
import { splitEvr } from "./evr.js";

describe("splitEvr", () => {
  it("splits like createrepo_c's cr_str_to_evr", () => {
    expect(splitEvr(undefined)).toEqual({});
    expect(splitEvr("")).toEqual({});
    expect(splitEvr("1.0")).toEqual({ epoch: "0", version: "1.0" });
    expect(splitEvr("2:1.0-3.el8")).toEqual({ epoch: "2", version: "1.0", release: "3.el8" });
    expect(splitEvr("1.0-2-3")).toEqual({ epoch: "0", version: "1.0", release: "2-3" });
    expect(splitEvr("1:")).toEqual({ epoch: "1", version: "" });
    expect(splitEvr(":1.0")).toEqual({ epoch: "0", version: "1.0" });
    expect(splitEvr("-1")).toEqual({ epoch: "0", version: "", release: "1" });
    expect(splitEvr("1.0-")).toEqual({ epoch: "0", version: "1.0" });
    expect(splitEvr(" 2:3")).toEqual({ epoch: " 2", version: "3" });
    expect(splitEvr("+5:1")).toEqual({ epoch: "+5", version: "1" });
  });

  it("reports a non-numeric epoch as null (createrepo_c drops the dependency)", () => {
    expect(splitEvr("x:1.0")).toBeNull();
    expect(splitEvr("1a:1.0")).toBeNull();
    expect(splitEvr("+:1")).toBeNull();
  });
});
