import { create, createFileRegistry, type DescFile } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";

/**
 * Builds a proto3 file descriptor at run time, so @bufbuild/protobuf's reflection (create, toBinary,
 * fromBinary) serves messages without protoc-generated code. Field numbers, types and labels are given
 * exactly as in the .proto source the descriptor stands for.
 */

export type ScalarField = { name: string; number: number; type: "string" | "bytes"; repeated?: boolean };
export type EnumField = { name: string; number: number; enum: string };
export type MessageField = { name: string; number: number; message: string };
export type FieldSpec = ScalarField | EnumField | MessageField;

export interface ProtoFileSpec {
  /** File name, e.g. "api/event/v1/event.proto". */
  name: string;
  /** Proto package, e.g. "beskar.api.event.v1". */
  package: string;
  enums?: { name: string; values: [name: string, number: number][] }[];
  messages: { name: string; fields: FieldSpec[] }[];
}

export function defineProtoFile(spec: ProtoFileSpec): DescFile {
  const proto = create(FileDescriptorProtoSchema, {
    name: spec.name,
    package: spec.package,
    syntax: "proto3",
    enumType: (spec.enums ?? []).map((e) => ({
      name: e.name,
      value: e.values.map(([name, number]) => ({ name, number })),
    })),
    messageType: spec.messages.map((m) => ({
      name: m.name,
      field: m.fields.map((f) => ({
        name: f.name,
        jsonName: jsonName(f.name),
        number: f.number,
        label:
          "type" in f && f.repeated
            ? FieldDescriptorProto_Label.REPEATED
            : FieldDescriptorProto_Label.OPTIONAL,
        ...fieldType(f, spec.package),
      })),
    })),
  });
  const registry = createFileRegistry(proto, () => undefined);
  const file = registry.getFile(spec.name);
  if (!file) throw new Error(`protobuf file ${spec.name} was not registered`);
  return file;
}

function fieldType(f: FieldSpec, pkg: string): { type: FieldDescriptorProto_Type; typeName?: string } {
  if ("enum" in f) return { type: FieldDescriptorProto_Type.ENUM, typeName: `.${pkg}.${f.enum}` };
  if ("message" in f) return { type: FieldDescriptorProto_Type.MESSAGE, typeName: `.${pkg}.${f.message}` };
  return { type: f.type === "string" ? FieldDescriptorProto_Type.STRING : FieldDescriptorProto_Type.BYTES };
}

function jsonName(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}
