import { describe, expect, it } from "vitest";
import { repoFileText, repositoryId } from "./repo-file.js";

const base = "https://yum.example.com";

describe("repoFileText", () => {
  it("turns both checks on, with both keys, where we sign and packages have a key", () => {
    expect(repoFileText("artifacts/yum/a", base, { id: "a", packageKey: true, repomdKey: "server" })).toBe(
      [
        "[a]",
        "name=a",
        "baseurl=https://yum.example.com/artifacts/yum/a/repo/",
        "enabled=1",
        "gpgcheck=1",
        "repo_gpgcheck=1",
        "gpgkey=https://yum.example.com/artifacts/yum/a/RPM-GPG-KEY https://yum.example.com/artifacts/yum/a/repo/repodata/repomd.xml.key",
        "",
      ].join("\n"),
    );
  });

  it("names upstream's key once for a mirror serving upstream's signature", () => {
    const text = repoFileText("artifacts/yum/m", base, { id: "m", packageKey: true, repomdKey: "gpg_key" });
    expect(text).toContain("repo_gpgcheck=1\ngpgkey=https://yum.example.com/artifacts/yum/m/RPM-GPG-KEY\n");
  });

  it("turns both off, and names no key, where nothing can be checked (a mirror of an unsigned upstream, no gpg_key)", () => {
    const text = repoFileText("artifacts/yum/u", base, { id: "u", packageKey: false, repomdKey: undefined });
    expect(text).toContain("gpgcheck=0\nrepo_gpgcheck=0\n");
    expect(text).not.toContain("gpgkey=");
  });

  it("writes / as - in section ids (dnf ids hold no /)", () => {
    expect(repositoryId("artifacts/yum/el9/x86_64/base")).toBe("el9-x86_64-base");
  });
});
