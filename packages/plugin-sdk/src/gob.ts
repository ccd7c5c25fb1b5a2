import { type BeskarMeta, emptyBeskarMeta } from "./beskar-meta.js";
import { GobReader, GobWriter } from "./gob-primitives.js";

/**
 * Go `encoding/gob` for Beskar's `BeskarMeta`, byte for byte what `gob.NewEncoder(b).Encode(&meta)` writes:
 * a fresh encoder per message, so every encoding is the type definition message followed by the value
 * message. The decoder matches fields by name (any order in the type definition, zero fields omitted),
 * skips unknown basic-typed fields as Go does, and rejects anything malformed with a typed error.
 */

/** Gob's predefined type ids (src/encoding/gob/type.go). */
const GobType = { bool: 1, int: 2, uint: 3, float: 4, bytes: 5, string: 6, complex: 7 } as const;
/** The first id a fresh encoder gives to a user type. */
const FIRST_USER_TYPE_ID = 65;
/** Node meta is at most 512 bytes (memberlist.MetaMaxSize); a decoder never needs more than this. */
const DEFAULT_MAX_BYTES = 64 * 1024;

type MetaField = {
  goName: string;
  key: keyof BeskarMeta;
  type: (typeof GobType)["bool" | "uint" | "string"];
  max?: number;
};

/** BeskarMeta's fields in Go declaration order (gob field numbers follow it). */
const META_FIELDS: readonly MetaField[] = [
  { goName: "InstanceType", key: "instanceType", type: GobType.uint, max: 0xff },
  { goName: "Ready", key: "ready", type: GobType.bool },
  { goName: "ServicePort", key: "servicePort", type: GobType.uint, max: 0xffff },
  { goName: "RegistryPort", key: "registryPort", type: GobType.uint, max: 0xffff },
  { goName: "Hostname", key: "hostname", type: GobType.string },
];

/** Encodes `meta` as Go's `encoding/gob` does with a fresh Encoder: type definition + value. */
export function encodeBeskarMeta(meta: BeskarMeta): Buffer {
  for (const field of META_FIELDS) {
    if (field.max === undefined) continue;
    const value = meta[field.key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > field.max) {
      throw new RangeError(`BeskarMeta.${field.key} must be an integer in [0, ${field.max}], got ${value}`);
    }
  }
  return Buffer.concat([message(typeDefinition()), message(value(meta))]);
}

function message(body: Buffer): Buffer {
  return Buffer.concat([new GobWriter().uint(body.length).toBuffer(), body]);
}

function typeDefinition(): Buffer {
  const w = new GobWriter().int(-FIRST_USER_TYPE_ID);
  // wireType{StructT: &structType{CommonType{Name, Id}, Field: []*fieldType}}: StructT is field 2 (delta 3).
  w.uint(3);
  w.uint(1).uint(1).string("BeskarMeta").uint(1).int(FIRST_USER_TYPE_ID).uint(0); // CommonType
  w.uint(1).uint(META_FIELDS.length); // Field
  for (const field of META_FIELDS) w.uint(1).string(field.goName).uint(1).int(field.type).uint(0);
  w.uint(0); // end of structType
  w.uint(0); // end of wireType
  return w.toBuffer();
}

function value(meta: BeskarMeta): Buffer {
  const w = new GobWriter().int(FIRST_USER_TYPE_ID);
  let last = -1;
  META_FIELDS.forEach((field, index) => {
    const v = meta[field.key];
    if (v === 0 || v === false || v === "") return; // gob omits zero values
    w.uint(index - last);
    last = index;
    if (field.type === GobType.bool) w.uint(1);
    else if (field.type === GobType.uint) w.uint(v as number);
    else w.string(v as string);
  });
  w.uint(0);
  return w.toBuffer();
}

export interface DecodeBeskarMetaOptions {
  /** Refuse inputs longer than this. Default 65536. */
  maxBytes?: number;
}

interface WireField {
  name: string;
  typeId: number;
}

interface WireStruct {
  name: string;
  fields: WireField[];
}

/**
 * Decodes a gob stream holding one `BeskarMeta` value (with its type definition first, as a fresh Go
 * encoder writes it). Throws `PluginSdkError` (`GOB_*`) on anything else.
 */
export function decodeBeskarMeta(bytes: Uint8Array, options: DecodeBeskarMetaOptions = {}): BeskarMeta {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const top = new GobReader(bytes, 0, bytes.length, "BeskarMeta gob");
  if (bytes.length > maxBytes) {
    throw top.error("GOB_OUT_OF_RANGE", `${bytes.length} bytes exceed the limit of ${maxBytes}`, 0);
  }
  if (bytes.length === 0) throw top.error("GOB_TRUNCATED", "empty input", 0);
  const types = new Map<number, WireStruct>();
  while (top.remaining > 0) {
    const start = top.offset;
    const length = top.uint(Number.MAX_SAFE_INTEGER, "message length");
    if (length === 0) throw top.error("GOB_MALFORMED", "empty message", start);
    if (length > top.remaining) {
      throw top.error("GOB_TRUNCATED", `message of ${length} bytes, ${top.remaining} left`, start);
    }
    const end = top.offset + length;
    const r = new GobReader(bytes, top.offset, end, "BeskarMeta gob");
    top.offset = end;
    const typeId = r.int("type id");
    if (typeId < 0) {
      const id = -typeId;
      if (types.has(id) || id < FIRST_USER_TYPE_ID) {
        throw r.error("GOB_MALFORMED", `type id ${id} is reserved or defined twice`, start);
      }
      types.set(id, readWireType(r));
      expectEnd(r, "type definition");
      continue;
    }
    const wire = types.get(typeId);
    if (!wire) {
      const what = typeId < FIRST_USER_TYPE_ID ? "a non-struct value" : "an undefined type id";
      throw r.error(
        "GOB_UNSUPPORTED",
        `value message with ${what} ${typeId}; expected the BeskarMeta struct`,
        start,
      );
    }
    const meta = readMeta(r, wire);
    expectEnd(r, "value");
    if (top.remaining > 0) {
      throw top.error("GOB_MALFORMED", `${top.remaining} trailing bytes after the BeskarMeta value`);
    }
    return meta;
  }
  throw top.error("GOB_TRUNCATED", "no value message after the type definition");
}

function expectEnd(r: GobReader, what: string): void {
  if (r.remaining !== 0)
    throw r.error("GOB_MALFORMED", `${r.remaining} unread bytes at the end of the ${what}`);
}

/** Reads gob's struct encoding: (field delta, value)* then 0; `onField` reads the value of field `index`. */
function readStruct(r: GobReader, fieldCount: number, what: string, onField: (index: number) => void): void {
  let index = -1;
  for (;;) {
    const at = r.offset;
    const delta = r.uint(Number.MAX_SAFE_INTEGER, `field delta in ${what}`);
    if (delta === 0) return;
    index += delta;
    if (index >= fieldCount) {
      throw r.error("GOB_MALFORMED", `field number ${index} in ${what}, which has ${fieldCount} fields`, at);
    }
    onField(index);
  }
}

/** wireType: ArrayT 0, SliceT 1, StructT 2, MapT 3, GobEncoderT 4, BinaryMarshalerT 5, TextMarshalerT 6. */
function readWireType(r: GobReader): WireStruct {
  const kinds = ["array", "slice", "struct", "map", "GobEncoder", "BinaryMarshaler", "TextMarshaler"];
  let result: WireStruct | undefined;
  readStruct(r, kinds.length, "wireType", (index) => {
    if (index !== 2) throw r.error("GOB_UNSUPPORTED", `${kinds[index]} type definitions are not supported`);
    if (result) throw r.error("GOB_MALFORMED", "wireType defines two types");
    result = readStructType(r);
  });
  if (!result) throw r.error("GOB_MALFORMED", "empty wireType");
  return result;
}

function readStructType(r: GobReader): WireStruct {
  const out: WireStruct = { name: "", fields: [] };
  readStruct(r, 2, "structType", (index) => {
    if (index === 0) {
      readStruct(r, 2, "CommonType", (i) => {
        if (i === 0) out.name = r.string("type name");
        else r.int("type id");
      });
      return;
    }
    const count = r.uint(r.remaining, "field count");
    for (let n = 0; n < count; n++) {
      const field: WireField = { name: "", typeId: 0 };
      readStruct(r, 2, "fieldType", (i) => {
        if (i === 0) field.name = r.string("field name");
        else field.typeId = r.int("field type id");
      });
      out.fields.push(field);
    }
  });
  return out;
}

function readMeta(r: GobReader, wire: WireStruct): BeskarMeta {
  const meta = emptyBeskarMeta();
  readStruct(r, wire.fields.length, `struct ${wire.name}`, (index) => {
    const wireField = wire.fields[index]!;
    const target = META_FIELDS.find((f) => f.goName === wireField.name);
    if (!target) {
      skipValue(r, wireField);
      return;
    }
    if (wireField.typeId !== target.type) {
      throw r.error(
        "GOB_UNSUPPORTED",
        `field ${wireField.name} has wire type ${typeName(wireField.typeId)}, BeskarMeta needs ${typeName(target.type)}`,
      );
    }
    const record = meta as unknown as Record<string, unknown>;
    if (target.type === GobType.bool) record[target.key] = r.uintBig() !== 0n;
    else if (target.type === GobType.uint) record[target.key] = r.uint(target.max!, wireField.name);
    else record[target.key] = r.string(wireField.name);
  });
  return meta;
}

/** Skips the value of a field BeskarMeta does not have (Go ignores such fields); basic types only. */
function skipValue(r: GobReader, field: WireField): void {
  switch (field.typeId) {
    case GobType.bool:
    case GobType.int:
    case GobType.uint:
    case GobType.float:
      r.uintBig();
      return;
    case GobType.complex:
      r.uintBig();
      r.uintBig();
      return;
    case GobType.bytes:
    case GobType.string:
      r.rawBytes(field.name);
      return;
    default:
      throw r.error("GOB_UNSUPPORTED", `unknown field ${field.name} of composite type ${field.typeId}`);
  }
}

function typeName(id: number): string {
  const entry = Object.entries(GobType).find(([, v]) => v === id);
  return entry ? entry[0] : `#${id}`;
}
