/**
 * Docker cannot change a container's health check, yet the Docker provider plans a changed
 * one as an in-place update that leaves the old check running while the state records the
 * new one. Containers with a health check are replaced when it changes instead.
 */
export const HEALTHCHECK_REPLACES = ["healthcheck"];
