// @amr/geo — coverage areas: GeoJSON validation, point-in-area and the CIC for a position. Pure.
export { validateGeometry, containsPoint, areaKm2, type Geometry, type GeometryCheck } from './geometry.js';
export { locateCic, type CicArea } from './locate.js';
