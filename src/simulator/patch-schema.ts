import { z } from 'zod'

/**
 * A schema for partial updates: the same fields, each optional and without its default, so an
 * update changes only what it names. zod's own .partial() keeps the defaults and would quietly
 * reset every unnamed field.
 */
export function patchSchemaOf<S extends z.ZodRawShape> (schema: z.ZodObject<S>): z.ZodType<Partial<z.output<z.ZodObject<S>>>> {
  const shape = Object.fromEntries(Object.entries(schema.shape).map(([key, field]) => {
    const bare = field instanceof z.ZodDefault ? field.unwrap() : field
    return [key, (bare as z.ZodType).optional()]
  }))
  return z.object(shape).strict() as unknown as z.ZodType<Partial<z.output<z.ZodObject<S>>>>
}
