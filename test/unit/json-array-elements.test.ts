import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonArrayElements } from '../../src/domain/json-array-elements.js'
import { propertyParameters } from '../helpers/property.js'

describe('jsonArrayElements', () => {
  it('cuts any JSON array, however spaced, into the exact bytes of its elements', () => {
    fc.assert(fc.property(fc.array(fc.jsonValue({ maxDepth: 3 })), fc.constantFrom(undefined, 1, 2, '\t'), (values, indent) => {
      const body = Buffer.from(JSON.stringify(values, null, indent))
      const elements = jsonArrayElements(body)
      expect(elements.map((element) => JSON.parse(element.toString('utf8')))).toEqual(values)
      // Each slice is a piece of the body itself, not a re-serialisation.
      for (const element of elements) expect(body.includes(element)).toBe(true)
    }), propertyParameters(200))
  })

  it('is not misled by brackets, commas and escaped quotes inside strings, nor by bytes that are not UTF-8', () => {
    const body = Buffer.concat([Buffer.from('[ "a,]\\"[", {"k": "}\\\\"}, "'), Buffer.from([0xff, 0xc3]), Buffer.from('" ,[1,[2]] ]')])
    expect(jsonArrayElements(body).map((element) => element.toString('latin1'))).toEqual(['"a,]\\"["', '{"k": "}\\\\"}', '"\xff\xc3"', '[1,[2]]'])
  })

  it('finds no element in an empty array', () => {
    expect(jsonArrayElements(Buffer.from('[]'))).toEqual([])
    expect(jsonArrayElements(Buffer.from(' [ \n ] '))).toEqual([])
  })
})
