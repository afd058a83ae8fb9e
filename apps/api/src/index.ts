export { ApiModule } from './api.module.js';
export { configureHttpApp } from './http-app.js';
