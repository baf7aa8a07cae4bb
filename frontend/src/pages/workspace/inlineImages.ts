// Inline (cid:) images of a customer's email, made visible inside the sandboxed frame.
//
// The API stores them as `postdesk-attachment:{attachment id}`: the frame has an opaque origin and no
// token, so it cannot fetch our attachments. The app downloads each one with the agent's token (the
// interaction-scoped attachment route, so nothing outside the conversation is reachable) and puts the
// bytes in as a data: URI, for image types a browser only decodes, up to a size cap.
import type { Schemas } from "../../api";

type Attachment = Schemas["AttachmentPublic"];

export const INLINE_IMAGE_PREFIX = "postdesk-attachment:";
export const MAX_INLINE_IMAGE_BYTES = 5 * 1024 * 1024;
export const MAX_INLINE_IMAGES = 50;

// Raster formats only: an SVG could carry scripts and links (inert in an <img>, but there is no need).
const IMAGE_TYPES: Record<string, string> = {
  "image/png": "image/png",
  "image/jpeg": "image/jpeg",
  "image/jpg": "image/jpeg",
  "image/pjpeg": "image/jpeg",
  "image/gif": "image/gif",
  "image/webp": "image/webp",
};

/** Parsed without a browsing context: nothing in it loads or runs. */
function parse(html: string): Document {
  return new DOMParser().parseFromString(`<!doctype html><html><body>${html}</body></html>`, "text/html");
}

function referencedId(image: Element): string | null {
  const source = image.getAttribute("src") ?? "";
  return source.startsWith(INLINE_IMAGE_PREFIX) ? source.slice(INLINE_IMAGE_PREFIX.length) : null;
}

/** Attachment ids the HTML's inline images refer to, in order, each once. */
export function inlineImageIds(html: string): string[] {
  if (!html.includes(INLINE_IMAGE_PREFIX)) return [];
  const ids = new Set<string>();
  for (const image of parse(html).querySelectorAll("img[src]")) {
    const id = referencedId(image);
    if (id) ids.add(id);
  }
  return [...ids];
}

/** The HTML with each inline image's reference replaced by its data: URI; references without one load nothing. */
export function substituteInlineImages(html: string, images: ReadonlyMap<string, string>): string {
  if (!html.includes(INLINE_IMAGE_PREFIX)) return html;
  const document = parse(html);
  for (const image of document.querySelectorAll("img[src]")) {
    const id = referencedId(image);
    if (id === null) continue;
    const uri = images.get(id);
    if (uri) image.setAttribute("src", uri);
    else image.removeAttribute("src");
  }
  return document.body.innerHTML;
}

/** The data: URI media type to show this attachment with, or null when it must not be inlined. */
export function inlineImageType(attachment: Attachment): string | null {
  const type = IMAGE_TYPES[attachment.content_type.toLowerCase().split(";")[0].trim()];
  return type && attachment.size_bytes <= MAX_INLINE_IMAGE_BYTES ? type : null;
}

export function dataUri(type: string, bytes: Uint8Array): string {
  let binary = "";
  for (let offset = 0; offset < bytes.length; offset += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  }
  return `data:${type};base64,${btoa(binary)}`;
}

/**
 * Data URIs for the referenced attachments that are images of this conversation: `download` fetches
 * an attachment's bytes (null when it fails). Others are left out, so their references show nothing.
 */
export async function loadInlineImages(
  ids: string[],
  attachments: Attachment[],
  download: (attachmentId: string) => Promise<ArrayBuffer | null>,
): Promise<Map<string, string>> {
  const byId = new Map(attachments.map((attachment) => [attachment.id, attachment]));
  const wanted = ids.slice(0, MAX_INLINE_IMAGES).flatMap((id) => {
    const attachment = byId.get(id);
    const type = attachment ? inlineImageType(attachment) : null;
    return type ? [{ id, type }] : [];
  });
  const loaded = await Promise.all(
    wanted.map(async ({ id, type }) => {
      const bytes = await download(id);
      // Checked on the bytes too: the cap is what protects the page, whatever the listing said.
      return bytes && bytes.byteLength <= MAX_INLINE_IMAGE_BYTES ? ([id, dataUri(type, new Uint8Array(bytes))] as const) : null;
    }),
  );
  return new Map(loaded.filter((entry) => entry !== null));
}
