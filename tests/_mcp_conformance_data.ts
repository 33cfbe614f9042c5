/**
 * What the conformance scenarios ask a server to return or to ask, shared by the v1 and v2
 * conformance fixtures: the media, the fixed tool results, the resources, the prompts and the
 * elicitation forms.
 *
 * @module
 */

import type {
  CallToolResult,
  ElicitRequestFormParams,
  Prompt,
  PromptMessage,
  ReadResourceResult,
  Resource,
  ResourceTemplateType,
} from "@modelcontextprotocol/server";

type Form = ElicitRequestFormParams["requestedSchema"];

/** A 1×1 red PNG. */
export const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

/** A WAV header with no samples: the smallest well-formed audio file. */
export const WAV = btoa(
  String.fromCharCode(
    ...new TextEncoder().encode("RIFF"),
    36,
    0,
    0,
    0,
    ...new TextEncoder().encode("WAVEfmt "),
    16,
    0,
    0,
    0,
    1,
    0,
    1,
    0,
    0x40,
    0x1f,
    0,
    0,
    0x80,
    0x3e,
    0,
    0,
    2,
    0,
    16,
    0,
    ...new TextEncoder().encode("data"),
    0,
    0,
    0,
    0,
  ),
);

/** What the tools of the tools-call-* scenarios that need nothing from the client return. */
export const FIXED_TOOL_RESULTS: Record<string, CallToolResult> = {
  test_simple_text: {
    content: [{ type: "text", text: "This is a simple text response for testing." }],
  },
  test_image_content: { content: [{ type: "image", data: PNG, mimeType: "image/png" }] },
  test_audio_content: { content: [{ type: "audio", data: WAV, mimeType: "audio/wav" }] },
  test_embedded_resource: {
    content: [{
      type: "resource",
      resource: {
        uri: "test://embedded-resource",
        mimeType: "text/plain",
        text: "This is an embedded resource content.",
      },
    }],
  },
  test_multiple_content_types: {
    content: [
      { type: "text", text: "Multiple content types test:" },
      { type: "image", data: PNG, mimeType: "image/png" },
      {
        type: "resource",
        resource: {
          uri: "test://mixed-content-resource",
          mimeType: "application/json",
          text: JSON.stringify({ test: "data", value: 123 }),
        },
      },
    ],
  },
  test_error_handling: {
    isError: true,
    content: [{ type: "text", text: "This tool intentionally returns an error for testing" }],
  },
};

/** The form of `test_elicitation` (tools-call-elicitation). */
export const USER_DETAILS_FORM: Form = {
  type: "object",
  properties: {
    username: { type: "string", description: "User's response" },
    email: { type: "string", description: "User's email address" },
  },
  required: ["username", "email"],
};

/** The form of `test_elicitation_sep1034_defaults`: a default for every primitive type. */
export const SEP1034_DEFAULTS_FORM: Form = {
  type: "object",
  properties: {
    name: { type: "string", default: "John Doe" },
    age: { type: "integer", default: 30 },
    score: { type: "number", default: 95.5 },
    status: { type: "string", enum: ["active", "inactive", "pending"], default: "active" },
    verified: { type: "boolean", default: true },
  },
};

/** The form of `test_elicitation_sep1330_enums`: every kind of enum. */
export const SEP1330_ENUMS_FORM: Form = {
  type: "object",
  properties: {
    untitledSingle: { type: "string", enum: ["option1", "option2", "option3"] },
    titledSingle: {
      type: "string",
      oneOf: [
        { const: "value1", title: "First Option" },
        { const: "value2", title: "Second Option" },
        { const: "value3", title: "Third Option" },
      ],
    },
    legacyEnum: {
      type: "string",
      enum: ["opt1", "opt2", "opt3"],
      enumNames: ["Option One", "Option Two", "Option Three"],
    },
    untitledMulti: {
      type: "array",
      items: { type: "string", enum: ["option1", "option2", "option3"] },
    },
    titledMulti: {
      type: "array",
      items: {
        anyOf: [
          { const: "value1", title: "First Choice" },
          { const: "value2", title: "Second Choice" },
          { const: "value3", title: "Third Choice" },
        ],
      },
    },
  },
};

/** The static resources (`resources/list`). */
export const RESOURCES: Resource[] = [
  {
    uri: "test://static-text",
    name: "static-text",
    description: "A static text resource",
    mimeType: "text/plain",
  },
  {
    uri: "test://static-binary",
    name: "static-binary",
    description: "A static PNG resource",
    mimeType: "image/png",
  },
  {
    uri: "test://watched-resource",
    name: "watched-resource",
    description: "A resource that can be subscribed to",
    mimeType: "text/plain",
  },
];

/** The one resource template (`resources/templates/list`). */
export const RESOURCE_TEMPLATE: ResourceTemplateType = {
  uriTemplate: "test://template/{id}/data",
  name: "template-data",
  description: "Data for an id",
  mimeType: "application/json",
};

/** What `resources/read` returns for `uri`: a static resource or the template; none if unknown. */
export function resourceContents(uri: string): ReadResourceResult["contents"] | undefined {
  switch (uri) {
    case "test://static-text":
      return [{
        uri,
        mimeType: "text/plain",
        text: "This is the content of the static text resource.",
      }];
    case "test://static-binary":
      return [{ uri, mimeType: "image/png", blob: PNG }];
    case "test://watched-resource":
      return [{ uri, mimeType: "text/plain", text: "Watched resource content." }];
  }
  const id = uri.match(/^test:\/\/template\/([^/]+)\/data$/)?.[1];
  if (id === undefined) return undefined;
  return [{
    uri,
    mimeType: "application/json",
    text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
  }];
}

/** The prompts of the prompts-* scenarios (`prompts/list`). */
export const PROMPTS: Prompt[] = [
  { name: "test_simple_prompt", description: "A prompt without arguments" },
  {
    name: "test_prompt_with_arguments",
    description: "A prompt with two arguments",
    arguments: [
      { name: "arg1", description: "First test argument", required: true },
      { name: "arg2", description: "Second test argument", required: true },
    ],
  },
  {
    name: "test_prompt_with_embedded_resource",
    description: "A prompt that embeds a resource",
    arguments: [{ name: "resourceUri", description: "The resource to embed", required: true }],
  },
  { name: "test_prompt_with_image", description: "A prompt with an image" },
];

/** The messages of one of {@linkcode PROMPTS} (`prompts/get`); none for another name. */
export function promptMessages(
  name: string,
  args: Record<string, string>,
): PromptMessage[] | undefined {
  const user = (content: PromptMessage["content"]): PromptMessage => ({ role: "user", content });
  switch (name) {
    case "test_simple_prompt":
      return [user({ type: "text", text: "This is a simple prompt for testing." })];
    case "test_prompt_with_arguments":
      return [user({
        type: "text",
        text: `Prompt with arguments: arg1='${args.arg1}', arg2='${args.arg2}'`,
      })];
    case "test_prompt_with_embedded_resource":
      return [
        user({
          type: "resource",
          resource: {
            uri: args.resourceUri,
            mimeType: "text/plain",
            text: "Embedded resource content for testing.",
          },
        }),
        user({ type: "text", text: "Please process the embedded resource above." }),
      ];
    case "test_prompt_with_image":
      return [
        user({ type: "image", data: PNG, mimeType: "image/png" }),
        user({ type: "text", text: "Please analyze the image above." }),
      ];
  }
}
