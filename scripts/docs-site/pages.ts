// The site's own pages, in both languages: the home page (what the API does, and a link to every
// other page and spec file) and Getting started (the spec's own "Getting started" section). The
// words about the API come from the spec (English as written, Chinese with the overlay applied);
// only the labels of the site's links are written here.
import { marked } from 'marked';
import { iconLink, linkFrom, sitePages, type Language } from './site-map.js';

interface SpecText {
  info: { title: string; summary: string; description: string };
  paths: Record<string, { post: { summary: string; description: string } }>;
}

const labels = {
  en: {
    lang: 'en',
    home: 'Home',
    other: '中文',
    apiReference: 'API reference',
    apiReferenceNote: 'every field, rule, default, error and sample of POST /v1/cloudRecord',
    otherApiReference: 'API reference in Chinese (中文)',
    client: 'TypeScript client reference',
    clientNote: 'createClient, its options, results and types (package cloudrec)',
    gettingStarted: 'Getting started',
    gettingStartedNote: 'the mock or the reference server on your machine, the first call, and how to know when the files are in the bucket',
    specs: 'The spec files',
    specNotes: { 'openapi.json': 'the OpenAPI 3.1 document, bundled', 'openapi.yaml': 'the same, as YAML', 'sandbox/openapi.json': "the reference server's sandbox control API", 'operations/openapi.json': "every node's health, readiness and Prometheus metrics" },
    next: 'Next',
    nextText: 'Check a server of the API against the spec with `npx cloudrec conformance --base-url <url>` (package cloudrec-server).',
  },
  zh: {
    lang: 'zh-CN',
    home: '首页',
    other: 'English',
    apiReference: 'API 参考',
    apiReferenceNote: 'POST /v1/cloudRecord 的全部字段、规则、默认值、错误和示例',
    otherApiReference: '英文 API 参考（English）',
    client: 'TypeScript 客户端参考',
    clientNote: 'createClient 及其选项、结果和类型（cloudrec 包，英文）',
    gettingStarted: '快速开始',
    gettingStartedNote: '在本机运行模拟服务或参考服务器，发起第一次调用，并得知文件何时已进入存储桶',
    specs: '规范文件',
    specNotes: { 'openapi.json': '打包后的 OpenAPI 3.1 文档', 'openapi.yaml': '同一文档的 YAML 形式', 'sandbox/openapi.json': '参考服务器的沙箱控制 API', 'operations/openapi.json': '每个节点的健康、就绪状态和 Prometheus 指标' },
    next: '下一步',
    nextText: '用 `npx cloudrec conformance --base-url <url>`（cloudrec-server 包）按规范检查该 API 的任一服务器实现。',
  },
} as const;

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

const style = `
  body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", "Noto Sans", "WenQuanYi Zen Hei", sans-serif; margin: 0; color: #1f2328; }
  header { background: #1d3557; color: #fff; padding: 0.8rem 1.5rem; display: flex; gap: 1.2rem; align-items: baseline; flex-wrap: wrap; }
  header a { color: #fff; } header strong { font-size: 1.1rem; margin-right: auto; }
  main { max-width: 52rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
  a { color: #0b5cad; } code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.9em; }
  pre { background: #f3f4f6; padding: 0.8rem 1rem; overflow-x: auto; border-radius: 6px; }
  ul.links li { margin: 0.5rem 0; } .note { color: #57606a; }
`;

/** One page of the site: the header's links, relative to `path`, then `body`. */
function page(language: Language, path: string, title: string, body: string): string {
  const t = labels[language];
  const otherLanguage: Language = language === 'en' ? 'zh' : 'en';
  const otherPage = path === sitePages.home[language] ? sitePages.home[otherLanguage] : sitePages.gettingStarted[otherLanguage];
  const nav = [
    [t.home, sitePages.home[language]],
    [t.apiReference, sitePages.api[language]],
    [t.client, sitePages.client],
    [t.gettingStarted, sitePages.gettingStarted[language]],
  ]
    .map(([label, to]) => `<a href="${linkFrom(path, to!)}">${escape(label!)}</a>`)
    .join('\n    ');
  return `<!doctype html>
<html lang="${t.lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escape(title)}</title>
  ${iconLink(path)}
  <style>${style}</style>
</head>
<body>
  <header>
    <strong>cloudrec</strong>
    ${nav}
    <a href="${linkFrom(path, otherPage)}" hreflang="${labels[otherLanguage].lang}">${escape(t.other)}</a>
  </header>
  <main>
${body}
  </main>
</body>
</html>
`;
}

/** The first paragraph of a Markdown text. */
const firstParagraph = (markdown: string) => markdown.trim().split(/\n\s*\n/)[0]!.replace(/\s*\n\s*/g, ' ');

/** The section of the spec's description under the heading `## <title>`, heading left out. */
function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`## ${title}\n`);
  if (start < 0) throw new Error(`The spec's description has no "## ${title}" section`);
  const rest = markdown.slice(start + title.length + 4);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

export function homePage(language: Language, spec: SpecText): string {
  const t = labels[language];
  const path = sitePages.home[language];
  const operation = spec.paths['/v1/cloudRecord']!.post;
  const link = (to: string, label: string, note: string) => `<li><a href="${linkFrom(path, to)}">${escape(label)}</a> <span class="note">${escape(note)}</span></li>`;
  const otherLanguage: Language = language === 'en' ? 'zh' : 'en';
  const body = `    <h1>${escape(spec.info.title)}</h1>
    <p><strong>${escape(spec.info.summary)}</strong></p>
    <p>${marked.parseInline(firstParagraph(operation.description))}</p>
    <ul class="links">
      ${link(sitePages.gettingStarted[language], t.gettingStarted, t.gettingStartedNote)}
      ${link(sitePages.api[language], t.apiReference, t.apiReferenceNote)}
      ${link(sitePages.api[otherLanguage], t.otherApiReference, '')}
      ${link(sitePages.client, t.client, t.clientNote)}
    </ul>
    <h2>${escape(t.specs)}</h2>
    <ul class="links">
      ${Object.entries(sitePages.specs)
        .map(([name, to]) => link(to, name, t.specNotes[name as keyof typeof t.specNotes]))
        .join('\n      ')}
    </ul>`;
  return page(language, path, spec.info.title, body);
}

/** The spec's sections the Getting started page shows, by their headings in each language: the first call, then its events. */
const gettingStartedSections = {
  en: ['Getting started', 'Know when the files are in the bucket'],
  zh: ['快速开始', '得知文件已进入存储桶'],
} as const;

export function gettingStartedPage(language: Language, spec: SpecText): string {
  const t = labels[language];
  const [heading, events] = gettingStartedSections[language];
  const body = `    <h1>${escape(heading)}</h1>
${marked.parse(section(spec.info.description, heading)) as string}
    <h2>${escape(events)}</h2>
${marked.parse(section(spec.info.description, events)) as string}
    <h2>${escape(t.next)}</h2>
    <p>${marked.parseInline(t.nextText)}</p>`;
  return page(language, sitePages.gettingStarted[language], `${heading} · ${spec.info.title}`, body);
}
