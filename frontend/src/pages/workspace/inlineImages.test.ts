import { describe, expect, it, vi } from "vitest";

import type { Schemas } from "../../api";
import { dataUri, inlineImageIds, inlineImageType, loadInlineImages, MAX_INLINE_IMAGE_BYTES, substituteInlineImages } from "./inlineImages";

const LOGO = "11111111-1111-4111-8111-111111111111";
const PHOTO = "22222222-2222-4222-8222-222222222222";
const STRANGER = "33333333-3333-4333-8333-333333333333";

function attachment(id: string, content_type: string, size_bytes = 4): Schemas["AttachmentPublic"] {
  return { id, filename: `${id}.bin`, content_type, size_bytes, inline: true, content_id: `${id}@shop.example` };
}

const HTML =
  `<p>Logo <img src="postdesk-attachment:${LOGO}" alt="logo" width="40"></p>` +
  `<p>src="postdesk-attachment:${PHOTO}" is only text here</p>` +
  `<img src="postdesk-attachment:${PHOTO}" alt="photo"><img src="postdesk-attachment:${LOGO}" alt="again">`;

describe("inlineImageIds", () => {
  it("lists the attachments images refer to, once each, and ignores text that looks like a reference", () => {
    expect(inlineImageIds(HTML)).toEqual([LOGO, PHOTO]);
    expect(inlineImageIds(`<p>postdesk-attachment:${LOGO}</p><a href="x">postdesk-attachment:${PHOTO}</a>`)).toEqual([]);
    expect(inlineImageIds("<p>No images</p>")).toEqual([]);
  });
});

describe("substituteInlineImages", () => {
  it("puts data URIs in place of references and leaves unresolved ones loading nothing", () => {
    const html = substituteInlineImages(HTML, new Map([[LOGO, "data:image/png;base64,AAAA"]]));
    const document = new DOMParser().parseFromString(html, "text/html");
    const images = [...document.querySelectorAll("img")];
    expect(images.map((image) => [image.getAttribute("alt"), image.getAttribute("src")])).toEqual([
      ["logo", "data:image/png;base64,AAAA"],
      ["photo", null],
      ["again", "data:image/png;base64,AAAA"],
    ]);
    expect(images[0].getAttribute("width")).toBe("40");
    expect(html).toContain(`src="postdesk-attachment:${PHOTO}" is only text here`); // text stays text
    expect(html).not.toContain(`<img src="postdesk-attachment:`);
  });

  it("leaves HTML without references untouched", () => {
    const html = '<p>Hi</p><img alt="pixel"><!--postdesk:remote-images-blocked-->';
    expect(substituteInlineImages(html, new Map())).toBe(html);
  });
});

describe("inlineImageType", () => {
  it("inlines raster images under the cap and nothing else", () => {
    expect(inlineImageType(attachment(LOGO, "image/png"))).toBe("image/png");
    expect(inlineImageType(attachment(LOGO, "IMAGE/JPG"))).toBe("image/jpeg");
    expect(inlineImageType(attachment(LOGO, "image/svg+xml"))).toBeNull();
    expect(inlineImageType(attachment(LOGO, "text/html"))).toBeNull();
    expect(inlineImageType(attachment(LOGO, "image/png", MAX_INLINE_IMAGE_BYTES + 1))).toBeNull();
  });
});

describe("loadInlineImages", () => {
  it("downloads only this conversation's image attachments and builds data URIs from their bytes", async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
    const download = vi.fn(async (id: string) => (id === PHOTO ? null : png.buffer));
    const attachments = [attachment(LOGO, "image/png"), attachment(PHOTO, "image/jpeg"), attachment("44444444-4444-4444-8444-444444444444", "text/html")];
    const images = await loadInlineImages([LOGO, PHOTO, STRANGER, "44444444-4444-4444-8444-444444444444"], attachments, download);
    expect([...images.entries()]).toEqual([[LOGO, "data:image/png;base64,iVBORw=="]]);
    // Not part of the conversation, or not an image: never requested.
    expect(download.mock.calls.map(([id]) => id)).toEqual([LOGO, PHOTO]);
  });

  it("drops an image whose bytes are over the cap", async () => {
    const download = async () => new ArrayBuffer(MAX_INLINE_IMAGE_BYTES + 1);
    expect((await loadInlineImages([LOGO], [attachment(LOGO, "image/png")], download)).size).toBe(0);
  });
});

describe("dataUri", () => {
  it("encodes large images in chunks", () => {
    const bytes = new Uint8Array(100_000).fill(65);
    expect(dataUri("image/gif", bytes)).toBe(`data:image/gif;base64,${btoa("A".repeat(100_000))}`);
  });
});
