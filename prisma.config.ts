// Prisma CLI configuration. The CLI runs on its bundled WebAssembly schema engine through the pg
// driver adapter, because the native engine binaries cannot be downloaded on our machines.
import 'dotenv/config'
import { PrismaPg } from '@prisma/adapter-pg'
import { defineConfig } from 'prisma/config'

function adapterConfig () {
  const url = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres')
  // Discrete fields, not a connection string: with a string, the adapter's shadow database
  // silently becomes the main one.
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)) || 'postgres'
  }
}

export default defineConfig({
  experimental: { adapter: true },
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  engine: 'js',
  adapter: async () => new PrismaPg(adapterConfig())
})
