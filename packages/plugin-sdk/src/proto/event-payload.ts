import { create, fromBinary, type Message, toBinary } from "@bufbuild/protobuf";
import { enumDesc, type GenEnum, type GenMessage, messageDesc } from "@bufbuild/protobuf/codegenv2";
import { PluginSdkError } from "../errors.js";
import { defineProtoFile } from "./proto-file.js";

/**
 * `beskar.api.event.v1` (Beskar's api/event/v1/event.proto): the body of `POST /event`.
 *
 *     enum Action { ACTION_UNSPECIFIED = 0; ACTION_PUT = 1; ACTION_DELETE = 2; ACTION_START = 3; ACTION_STOP = 4; }
 *     enum Origin { ORIGIN_UNSPECIFIED = 0; ORIGIN_EXTERNAL = 1; ORIGIN_PLUGIN = 2; }
 *     message EventPayload {
 *       string repository = 1; string digest = 2; string mediatype = 3; bytes payload = 4;
 *       Action action = 5; Origin origin = 6;
 *     }
 */

/** What happened to the artifact (`beskar.api.event.v1.Action`). */
export const Action = { UNSPECIFIED: 0, PUT: 1, DELETE: 2, START: 3, STOP: 4 } as const;
/** An `Action` value; proto3 enums are open, so an unknown number can arrive too. */
export type Action = (typeof Action)[keyof typeof Action];

/** Who caused the event (`beskar.api.event.v1.Origin`): a plugin pushing through Beskar, or anyone else. */
export const Origin = { UNSPECIFIED: 0, EXTERNAL: 1, PLUGIN: 2 } as const;
export type Origin = (typeof Origin)[keyof typeof Origin];

export type EventPayload = Message<"beskar.api.event.v1.EventPayload"> & {
  /** The OCI repository of the manifest, e.g. `artifacts/yum/rocky/packages` (required). */
  repository: string;
  /** The manifest digest, `sha256:<hex>`. */
  digest: string;
  /** The manifest's config mediatype (one the plugin listed in `Info.mediatypes`). */
  mediatype: string;
  /** The manifest itself. */
  payload: Uint8Array;
  action: Action;
  origin: Origin;
};

const file = defineProtoFile({
  name: "api/event/v1/event.proto",
  package: "beskar.api.event.v1",
  enums: [
    {
      name: "Action",
      values: [
        ["ACTION_UNSPECIFIED", 0],
        ["ACTION_PUT", 1],
        ["ACTION_DELETE", 2],
        ["ACTION_START", 3],
        ["ACTION_STOP", 4],
      ],
    },
    {
      name: "Origin",
      values: [
        ["ORIGIN_UNSPECIFIED", 0],
        ["ORIGIN_EXTERNAL", 1],
        ["ORIGIN_PLUGIN", 2],
      ],
    },
  ],
  messages: [
    {
      name: "EventPayload",
      fields: [
        { name: "repository", number: 1, type: "string" },
        { name: "digest", number: 2, type: "string" },
        { name: "mediatype", number: 3, type: "string" },
        { name: "payload", number: 4, type: "bytes" },
        { name: "action", number: 5, enum: "Action" },
        { name: "origin", number: 6, enum: "Origin" },
      ],
    },
  ],
});

export const EventPayloadSchema: GenMessage<EventPayload> = messageDesc(file, 0);
export const ActionSchema: GenEnum<Action> = enumDesc(file, 0);
export const OriginSchema: GenEnum<Origin> = enumDesc(file, 1);

export type EventPayloadInit = Partial<Omit<EventPayload, "$typeName" | "$unknown">>;

export function createEventPayload(init: EventPayloadInit = {}): EventPayload {
  return create(EventPayloadSchema, init);
}

/** Protobuf bytes, as Go's `proto.Marshal` writes them (fields in number order, zero values left out). */
export function encodeEventPayload(event: EventPayloadInit): Uint8Array {
  return toBinary(EventPayloadSchema, createEventPayload(event));
}

/** Parses protobuf bytes; `PROTO_MALFORMED` when they are not an EventPayload (as Go's `proto.Unmarshal` fails). */
export function decodeEventPayload(bytes: Uint8Array): EventPayload {
  try {
    return fromBinary(EventPayloadSchema, bytes);
  } catch (err) {
    throw new PluginSdkError(
      "PROTO_MALFORMED",
      `not a beskar.api.event.v1.EventPayload (${bytes.length} bytes): ${(err as Error).message}`,
      { bytes: bytes.length },
      { cause: err },
    );
  }
}

/** `ACTION_PUT` for `Action.PUT`, the number for an unknown value. */
export function actionName(action: number): string {
  return ActionSchema.values.find((v) => v.number === action)?.name ?? String(action);
}
