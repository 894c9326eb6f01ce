/**
 * The services Scholar talks to, named once. Settings (scholar.endpoints.*), the CLI's --endpoint
 * and --limit, the HTTP policy lanes and the replay server all use these names.
 */

/** The scholarly APIs, each with an endpoint a user can point elsewhere, in the order help texts list them. */
export const API_SERVICES = ['crossref', 'openalex', 'unpaywall', 'semanticScholar', 'arxiv', 'doi'] as const;
export type ApiService = (typeof API_SERVICES)[number];

/** Every lane with its own HTTP policy: the APIs, and the publishers' hosts that serve PDFs. */
export const SERVICE_NAMES = [...API_SERVICES, 'pdf'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const DEFAULT_ENDPOINTS: Record<ApiService, string> = {
  crossref: 'https://api.crossref.org',
  openalex: 'https://api.openalex.org',
  semanticScholar: 'https://api.semanticscholar.org',
  arxiv: 'https://export.arxiv.org',
  unpaywall: 'https://api.unpaywall.org',
  doi: 'https://doi.org',
};

export function isApiService(name: string): name is ApiService {
  return (API_SERVICES as readonly string[]).includes(name);
}
