// PLACEHOLDER until the markdown-render branch lands: same API, naive rendering.
export interface TextLink { readonly start: number; readonly end: number; readonly url: string }
export interface RichText { readonly text: string; readonly links: readonly TextLink[] }
export interface RenderedBlock extends RichText { readonly kind: 'heading' | 'paragraph' | 'item' | 'code' | 'quote' }
export interface MarkdownOptions { readonly links: "facets" | "inline"; readonly repositoryUrl: string; readonly serverUrl: string; readonly references?: "neutralize" | "keep" }
export function renderMarkdown(markdown: string, _opts: MarkdownOptions): RenderedBlock[] {
  return markdown.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean).map((text) => ({ kind: 'paragraph', text: text.replace(/^#+\s*/, ''), links: [] }));
}
export function joinBlocks(blocks: readonly RenderedBlock[]): RichText {
  return { text: blocks.map((b) => b.text).join('\n\n'), links: [] };
}
export function neutralizeReferences(text: string, _opts: MarkdownOptions): RichText {
  return { text: text.replace(/@(\w)/g, '$1'), links: [] };
}
