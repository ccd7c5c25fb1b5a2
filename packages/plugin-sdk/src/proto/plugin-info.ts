import { create, fromBinary, type Message, toBinary } from "@bufbuild/protobuf";
import { type GenMessage, messageDesc } from "@bufbuild/protobuf/codegenv2";
import { PluginSdkError } from "../errors.js";
import { defineProtoFile } from "./proto-file.js";

/**
 * `beskar.api.plugin.v1` (Beskar's api/plugin/v1/plugin.proto): the body of `GET /info`.
 *
 *     message Router { bytes rego = 1; bytes data = 2; }
 *     message Info { string name = 1; repeated string mediatypes = 2; string version = 3; Router router = 4; }
 */

export type Router = Message<"beskar.api.plugin.v1.Router"> & {
  /** The Rego policy Beskar routes `/artifacts/<name>/...` requests with. */
  rego: Uint8Array;
  /** Its data document (JSON). */
  data: Uint8Array;
};

export type Info = Message<"beskar.api.plugin.v1.Info"> & {
  /** The plugin name: the `<name>` of `/artifacts/<name>/...`. */
  name: string;
  /** OCI config mediatypes the plugin receives events for; empty for a plugin without state. */
  mediatypes: string[];
  /** A semver; Beskar keeps the highest version it has seen for a name. */
  version: string;
  router?: Router;
};

const file = defineProtoFile({
  name: "api/plugin/v1/plugin.proto",
  package: "beskar.api.plugin.v1",
  messages: [
    {
      name: "Router",
      fields: [
        { name: "rego", number: 1, type: "bytes" },
        { name: "data", number: 2, type: "bytes" },
      ],
    },
    {
      name: "Info",
      fields: [
        { name: "name", number: 1, type: "string" },
        { name: "mediatypes", number: 2, type: "string", repeated: true },
        { name: "version", number: 3, type: "string" },
        { name: "router", number: 4, message: "Router" },
      ],
    },
  ],
});

export const RouterSchema: GenMessage<Router> = messageDesc(file, 0);
export const InfoSchema: GenMessage<Info> = messageDesc(file, 1);

/** A plugin's info as plain data (what a service configures). */
export interface PluginInfo {
  name: string;
  version: string;
  mediatypes: readonly string[];
  router: { rego: Uint8Array | string; data: Uint8Array | string };
}

const bytesOf = (v: Uint8Array | string) => (typeof v === "string" ? Buffer.from(v, "utf8") : v);

export function encodeInfo(info: PluginInfo): Uint8Array {
  return toBinary(
    InfoSchema,
    create(InfoSchema, {
      name: info.name,
      version: info.version,
      mediatypes: [...info.mediatypes],
      router: { rego: bytesOf(info.router.rego), data: bytesOf(info.router.data) },
    }),
  );
}

export function decodeInfo(bytes: Uint8Array): Info {
  try {
    return fromBinary(InfoSchema, bytes);
  } catch (err) {
    throw new PluginSdkError(
      "PROTO_MALFORMED",
      `not a beskar.api.plugin.v1.Info (${bytes.length} bytes): ${(err as Error).message}`,
      { bytes: bytes.length },
      { cause: err },
    );
  }
}
