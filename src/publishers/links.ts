/** Web links for platform-native post identifiers, for the `url` output and the summary. */
import type { Platform } from '../model/platforms.js';

const AT_URI = /^at:\/\/([^/]+)\/app\.bsky\.feed\.post\/([^/?#]+)$/;

export function blueskyPostUrl(atUri: string): string | undefined {
  const match = AT_URI.exec(atUri);
  return match ? `https://bsky.app/profile/${match[1]}/post/${match[2]}` : undefined;
}

const BSKY_APP_URL = /^https:\/\/bsky\.app\/profile\/(did:[a-z]+:[^/?#]+)\/post\/([^/?#]+)$/;

/** The AT-URI of a bsky.app post link whose profile is a DID (the inverse of blueskyPostUrl). */
export function blueskyAtUri(url: string): string | undefined {
  const match = BSKY_APP_URL.exec(url);
  return match ? `at://${match[1]}/app.bsky.feed.post/${match[2]}` : undefined;
}

/**
 * The web page of a post, derived from the URI (or id) a platform returned; undefined
 * when the platform's web address cannot be derived from it (Threads, Instagram and
 * TikTok use shortcodes the API does not return).
 */
export function webUrl(platform: Platform, uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  // letmepost gives X posts as twitter.com links; x.com is where they live now.
  const tweet = /^https?:\/\/(?:www\.)?(?:twitter|x)\.com\/([^/?#]+)\/status\/(\d+)/.exec(uri);
  if (tweet) return `https://x.com/${tweet[1]}/status/${tweet[2]}`;
  if (/^https?:\/\//.test(uri)) return uri;
  if (uri.startsWith('at://')) return blueskyPostUrl(uri);
  if (uri.startsWith('urn:li:')) return `https://www.linkedin.com/feed/update/${uri}/`;
  switch (platform) {
    case 'twitter':
      return /^\d+$/.test(uri) ? `https://x.com/i/status/${uri}` : undefined;
    case 'pinterest':
      return /^\d+$/.test(uri) ? `https://www.pinterest.com/pin/${uri}/` : undefined;
    case 'facebook':
      return /^[\d_]+$/.test(uri) ? `https://www.facebook.com/${uri}` : undefined;
    default:
      return undefined;
  }
}
