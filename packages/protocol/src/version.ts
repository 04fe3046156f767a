/**
 * The wire protocol's version, sent in `hello` and `welcome`. Bumped on any change that an
 * older peer could not read. Whatever the version, `hello` keeps its `kind`, `version` and
 * `role` fields and `refuse` keeps its layout, so peers of different versions can always tell
 * each other so.
 */
export const PROTOCOL_VERSION = 2
