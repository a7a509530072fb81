// typedoc settings for the client reference (docs/client).
import { OptionDefaults } from 'typedoc';

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  entryPoints: ['src/index.ts', 'src/webhooks.ts'],
  tsconfig: 'tsconfig.build.json',
  out: 'docs/client',
  name: 'cloudrec client',
  // The reference opens on the client's README: what it is, install, the first call, errors, retries.
  readme: 'src/client/README.md',
  excludePrivate: true,
  treatWarningsAsErrors: true,
  // No hosted repository to link to, and a clone's remote varies (none here, a path in CI).
  disableSources: true,
  // The site's home page; scripts/docs-site/client-pages.ts makes the link relative on each page.
  navigationLinks: { 'cloudrec docs home': 'cloudrec-site-home' },
  // openapi-typescript writes the spec's descriptions as @description and constants as @constant.
  blockTags: [...OptionDefaults.blockTags, '@description', '@constant'],
};
