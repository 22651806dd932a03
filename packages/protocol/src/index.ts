export * from './errors.ts';
export * from './events.ts';
export * from './limits.ts';
export * from './media.ts';
export * from './requests.ts';
export * from './result.ts';
export * from './room.ts';
export * from './validate.ts';
