/** Every JSON endpoint lives under this prefix; pages, health and docs do not. */
export const API_PREFIX = 'api/v1';
