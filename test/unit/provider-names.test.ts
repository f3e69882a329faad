import { readdirSync, readFileSync } from 'node:fs'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

// The name rule (docs/architecture.md, "Adding a provider"): no file outside a provider folder
// mentions an upstream by name, except the registry and the configuration (the app registers each
// provider's routes by looping over the registry).
// A name is an identifier or a string (a module path included); comments may name upstreams, since
// explaining why often has to. Generated code (Prisma's client) is left out: it is not written here.

const PROVIDER_NAME = /gameso|midasbuy/i

/** Files that may name providers for good: they are where the providers are listed or configured. */
const ALLOWED: Record<string, string> = {
  'src/providers/index.ts': 'the registry',
  'src/config.ts': 'each provider\'s variables (GAMESO_*, MIDASBUY_*) are fixed names'
}

function sourceFiles (): string[] {
  return (readdirSync('src', { recursive: true, encoding: 'utf8' }))
    .map((file) => `src/${file.replaceAll('\\', '/')}`)
    .filter((file) => file.endsWith('.ts') && !file.startsWith('src/generated/'))
    .sort()
}

function isProviderFolder (file: string): boolean {
  return /^src\/providers\/[^/]+\//.test(file)
}

/** Every identifier and string of a file that names a provider, as `line: text`. */
function providerNames (file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    const named = ts.isIdentifier(node) || ts.isPrivateIdentifier(node) || ts.isStringLiteralLike(node) ||
      ts.isTemplateLiteralToken(node) || ts.isRegularExpressionLiteral(node) || ts.isJsxText(node)
    if (named && PROVIDER_NAME.test(node.getText(source))) {
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1
      found.push(`${line}: ${node.getText(source).slice(0, 80)}`)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

describe('the provider name rule', () => {
  const files = sourceFiles()

  it('finds the source files, and the names inside strings and identifiers', () => {
    expect(files).toContain('src/app.ts')
    // The check must see what it is looking for where it is allowed, or it proves nothing elsewhere.
    expect(providerNames('src/providers/index.ts').length).toBeGreaterThan(0)
    expect(providerNames('src/config.ts').some((hit) => hit.includes('GAMESO_WEBHOOK_SECRETS'))).toBe(true)
  })

  it('no file outside a provider folder names a provider, except the allowed ones', () => {
    const offending = files
      .filter((file) => !isProviderFolder(file) && !(file in ALLOWED))
      .flatMap((file) => providerNames(file).map((hit) => `${file}:${hit}`))
    expect(offending).toEqual([])
  })

  it('every allow-list entry is a file that still names a provider', () => {
    const stale = Object.keys(ALLOWED).filter((file) => !files.includes(file) || providerNames(file).length === 0)
    expect(stale).toEqual([])
  })
})
