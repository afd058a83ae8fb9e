import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { plainToInstance } from 'class-transformer';
import { IsInt, Matches, validate } from 'class-validator';
import { Omittable } from './omittable.js';

class Settings {
  @Omittable() @IsInt() graceS?: number;
  @Omittable({ nullable: true }) @Matches(/^\+\d+$/, { message: 'msisdn must be an E.164 number' }) msisdn?: string | null;
}

/** The messages validation gives for a body, field by field. */
async function problems(body: object): Promise<Record<string, string[]>> {
  const errors = await validate(plainToInstance(Settings, body), { forbidUnknownValues: true });
  return Object.fromEntries(errors.map((e) => [e.property, Object.values(e.constraints ?? {})]));
}

describe(Omittable.name, () => {
  it('lets a field be left out', async () => {
    expect(await problems({})).toEqual({});
  });

  it('checks a field that is there', async () => {
    expect(await problems({ graceS: 600, msisdn: '+32470123456' })).toEqual({});
    expect(await problems({ graceS: 'soon', msisdn: '0470' })).toEqual({
      graceS: ['graceS must be an integer number'],
      msisdn: ['msisdn must be an E.164 number'],
    });
  });

  it('refuses null with the field\'s own message', async () => {
    expect(await problems({ graceS: null })).toEqual({ graceS: ['graceS must be an integer number'] });
  });

  it('takes null where the field is nullable', async () => {
    expect(await problems({ msisdn: null })).toEqual({});
  });
});
