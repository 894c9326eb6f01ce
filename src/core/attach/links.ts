/**
 * Links a user follows in the browser: a DOI's landing page, optionally through their
 * institution's proxy. Pure string work, so the editor and the CLI build the same URL.
 */
import { ScholarError } from '../errors';

export const DEFAULT_DOI_LINK_BASE = 'https://doi.org/';

/** The DOI's path with each segment escaped but its slashes kept (10.1000/a/b stays readable). */
function doiPathPart(doi: string): string {
  return doi.split('/').map(encodeURIComponent).join('/');
}

/**
 * `https://doi.org/<doi>`, or under `base` (JabRef's "custom DOI URI"): a base ending in `/`, `=`
 * or `?` gets the DOI appended; `{doi}` in it is replaced.
 */
export function doiLink(doi: string, base = DEFAULT_DOI_LINK_BASE): string {
  const b = base.trim() || DEFAULT_DOI_LINK_BASE;
  checkHttpUrl(b.replace('{doi}', 'x'), 'scholar.doiLinkBase');
  if (b.includes('{doi}')) return b.replace('{doi}', doiPathPart(doi));
  return /[/=?]$/.test(b) ? `${b}${doiPathPart(doi)}` : `${b}/${doiPathPart(doi)}`;
}

function checkHttpUrl(s: string, setting: string): URL {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new ScholarError('E_CONFIG', `${setting} is not a URL: ${s}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new ScholarError('E_CONFIG', `${setting} must be an http or https URL`);
  return u;
}

/**
 * Rewrites `url` through an institutional proxy template. EZproxy's starting-point form takes the
 * target as is (`https://login.ezproxy.example.edu/login?url=$@`, the `$@` of LibX/EZproxy
 * docs); OpenAthens' redirector wants it percent-encoded (`…/redirector/example.edu?url={url}`).
 * A template with neither placeholder gets the encoded URL appended.
 */
export function proxiedUrl(template: string, url: string): string {
  const t = template.trim();
  if (!t) throw new ScholarError('E_NO_PROXY', 'scholar.institutionalProxy is not set');
  let out: string;
  if (t.includes('$@')) out = t.split('$@').join(url);
  else if (t.includes('{url}')) out = t.split('{url}').join(encodeURIComponent(url));
  else out = `${t}${encodeURIComponent(url)}`;
  checkHttpUrl(out, 'scholar.institutionalProxy');
  return out;
}
