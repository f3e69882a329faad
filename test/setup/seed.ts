import fc from 'fast-check'
import { SUITE_SEED } from '../helpers/property.js'

// Every random input in the suite comes from fast-check, seeded here: the same seed gives the same
// inputs, and a failing property prints the seed and path that replay it. FC_SEED=<n> runs the
// suite with another seed.
fc.configureGlobal({ seed: SUITE_SEED })
