import { ValidateIf } from 'class-validator';

/**
 * A field the caller may leave out. Once it is there it is validated, JSON `null` included, so a
 * null gets the field's own message ("graceS must be an integer number") instead of passing as if
 * it had been left out, which is what class-validator's `@IsOptional()` does.
 *
 * `{ nullable: true }` also takes null, for the few fields where null is the documented way to
 * clear a value (`{"msisdn": null}` removes a button's number): the service must clear it.
 */
export function Omittable({ nullable = false }: { nullable?: boolean } = {}): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined && !(nullable && value === null));
}
