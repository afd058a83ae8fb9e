/**
 * The eleven Belgian provincial emergency call centres (CIC / 112 centres), known out of the box
 * (CONTRACT §4: "The eleven Belgian provincial CICs are known out of the box"). The initial
 * migration seeds exactly these rows; the ids are stable slugs that others may store.
 */
export const BELGIAN_CICS: ReadonlyArray<{ readonly id: string; readonly name: string }> = [
  { id: 'cic-antwerpen', name: 'CIC Antwerpen' },
  { id: 'cic-limburg', name: 'CIC Limburg' },
  { id: 'cic-oost-vlaanderen', name: 'CIC Oost-Vlaanderen' },
  { id: 'cic-west-vlaanderen', name: 'CIC West-Vlaanderen' },
  { id: 'cic-vlaams-brabant', name: 'CIC Vlaams-Brabant' },
  { id: 'cic-brussels', name: 'CIC Brussel-Bruxelles' },
  { id: 'cic-brabant-wallon', name: 'CIC Brabant wallon' },
  { id: 'cic-hainaut', name: 'CIC Hainaut' },
  { id: 'cic-liege', name: 'CIC Liège' },
  { id: 'cic-luxembourg', name: 'CIC Luxembourg' },
  { id: 'cic-namur', name: 'CIC Namur' },
];
