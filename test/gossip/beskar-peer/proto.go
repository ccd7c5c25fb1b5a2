package main

// Beskar's protobuf messages, handled by Go's google.golang.org/protobuf through descriptors built here
// from Beskar's api/plugin/v1/plugin.proto and api/event/v1/event.proto (no protoc on this machine).

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

var (
	infoDesc  protoreflect.MessageDescriptor
	eventDesc protoreflect.MessageDescriptor
)

func field(name string, number int32, typ descriptorpb.FieldDescriptorProto_Type, typeName string, repeated bool) *descriptorpb.FieldDescriptorProto {
	label := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
	if repeated {
		label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
	}
	f := &descriptorpb.FieldDescriptorProto{
		Name:     proto.String(name),
		JsonName: proto.String(name),
		Number:   proto.Int32(number),
		Label:    label.Enum(),
		Type:     typ.Enum(),
	}
	if typeName != "" {
		f.TypeName = proto.String(typeName)
	}
	return f
}

func enumValues(names ...string) []*descriptorpb.EnumValueDescriptorProto {
	var values []*descriptorpb.EnumValueDescriptorProto
	for i, n := range names {
		values = append(values, &descriptorpb.EnumValueDescriptorProto{Name: proto.String(n), Number: proto.Int32(int32(i))})
	}
	return values
}

func init() {
	const (
		tString  = descriptorpb.FieldDescriptorProto_TYPE_STRING
		tBytes   = descriptorpb.FieldDescriptorProto_TYPE_BYTES
		tEnum    = descriptorpb.FieldDescriptorProto_TYPE_ENUM
		tMessage = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	)
	plugin := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("api/plugin/v1/plugin.proto"),
		Package: proto.String("beskar.api.plugin.v1"),
		Syntax:  proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Router"), Field: []*descriptorpb.FieldDescriptorProto{
				field("rego", 1, tBytes, "", false),
				field("data", 2, tBytes, "", false),
			}},
			{Name: proto.String("Info"), Field: []*descriptorpb.FieldDescriptorProto{
				field("name", 1, tString, "", false),
				field("mediatypes", 2, tString, "", true),
				field("version", 3, tString, "", false),
				field("router", 4, tMessage, ".beskar.api.plugin.v1.Router", false),
			}},
		},
	}
	event := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("api/event/v1/event.proto"),
		Package: proto.String("beskar.api.event.v1"),
		Syntax:  proto.String("proto3"),
		EnumType: []*descriptorpb.EnumDescriptorProto{
			{Name: proto.String("Action"), Value: enumValues("ACTION_UNSPECIFIED", "ACTION_PUT", "ACTION_DELETE", "ACTION_START", "ACTION_STOP")},
			{Name: proto.String("Origin"), Value: enumValues("ORIGIN_UNSPECIFIED", "ORIGIN_EXTERNAL", "ORIGIN_PLUGIN")},
		},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("EventPayload"), Field: []*descriptorpb.FieldDescriptorProto{
				field("repository", 1, tString, "", false),
				field("digest", 2, tString, "", false),
				field("mediatype", 3, tString, "", false),
				field("payload", 4, tBytes, "", false),
				field("action", 5, tEnum, ".beskar.api.event.v1.Action", false),
				field("origin", 6, tEnum, ".beskar.api.event.v1.Origin", false),
			}},
		},
	}
	files := new(protoregistry.Files)
	for _, fd := range []*descriptorpb.FileDescriptorProto{plugin, event} {
		f, err := protodesc.NewFile(fd, files)
		if err != nil {
			panic(err)
		}
		if err := files.RegisterFile(f); err != nil {
			panic(err)
		}
	}
	d, _ := files.FindDescriptorByName("beskar.api.plugin.v1.Info")
	infoDesc = d.(protoreflect.MessageDescriptor)
	d, _ = files.FindDescriptorByName("beskar.api.event.v1.EventPayload")
	eventDesc = d.(protoreflect.MessageDescriptor)
}

// pluginInfo is Info decoded, for the JSON lines.
type pluginInfo struct {
	Name       string   `json:"name"`
	Mediatypes []string `json:"mediatypes"`
	Version    string   `json:"version"`
	Rego       string   `json:"rego"`
	Data       string   `json:"data"`
	HasRouter  bool     `json:"hasRouter"`
}

// decodeInfo is proto.Unmarshal into beskar.api.plugin.v1.Info; bytes Go does not recognise as one of
// its fields (unknown fields) are an error here, so a wrong field number or wire type cannot go unseen.
func decodeInfo(b []byte) (*pluginInfo, error) {
	msg := dynamicpb.NewMessage(infoDesc)
	if err := proto.Unmarshal(b, msg); err != nil {
		return nil, err
	}
	if len(msg.GetUnknown()) > 0 {
		return nil, fmt.Errorf("Info has unknown fields: %x", msg.GetUnknown())
	}
	fields := infoDesc.Fields()
	info := &pluginInfo{
		Name:    msg.Get(fields.ByName("name")).String(),
		Version: msg.Get(fields.ByName("version")).String(),
	}
	list := msg.Get(fields.ByName("mediatypes")).List()
	for i := 0; i < list.Len(); i++ {
		info.Mediatypes = append(info.Mediatypes, list.Get(i).String())
	}
	routerField := fields.ByName("router")
	if msg.Has(routerField) {
		router := msg.Get(routerField).Message()
		if len(router.GetUnknown()) > 0 {
			return nil, fmt.Errorf("Router has unknown fields: %x", router.GetUnknown())
		}
		info.HasRouter = true
		info.Rego = string(router.Get(router.Descriptor().Fields().ByName("rego")).Bytes())
		info.Data = string(router.Get(router.Descriptor().Fields().ByName("data")).Bytes())
	}
	return info, nil
}

// eventRequest is what the control API takes to build an EventPayload.
type eventRequest struct {
	Node       string `json:"node"`
	Repository string `json:"repository"`
	Digest     string `json:"digest"`
	Mediatype  string `json:"mediatype"`
	Payload    []byte `json:"payload"`
	Action     int32  `json:"action"`
	Origin     int32  `json:"origin"`
}

// encodeEvent is proto.Marshal of beskar.api.event.v1.EventPayload.
func encodeEvent(e *eventRequest) ([]byte, error) {
	msg := dynamicpb.NewMessage(eventDesc)
	fields := eventDesc.Fields()
	set := func(name protoreflect.Name, v protoreflect.Value) { msg.Set(fields.ByName(name), v) }
	if e.Repository != "" {
		set("repository", protoreflect.ValueOfString(e.Repository))
	}
	if e.Digest != "" {
		set("digest", protoreflect.ValueOfString(e.Digest))
	}
	if e.Mediatype != "" {
		set("mediatype", protoreflect.ValueOfString(e.Mediatype))
	}
	if len(e.Payload) > 0 {
		set("payload", protoreflect.ValueOfBytes(e.Payload))
	}
	if e.Action != 0 {
		set("action", protoreflect.ValueOfEnum(protoreflect.EnumNumber(e.Action)))
	}
	if e.Origin != 0 {
		set("origin", protoreflect.ValueOfEnum(protoreflect.EnumNumber(e.Origin)))
	}
	return proto.Marshal(msg)
}
