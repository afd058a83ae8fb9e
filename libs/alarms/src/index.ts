export { AlarmsModule } from './alarms.module.js';
export { AlarmService } from './alarm.service.js';
export type { DispatchDetails } from './alarm.service.js';
export { loadAlarmView, caseView, ALARM_STAGES } from './alarm-view.js';
export type { AlarmView, AlarmStage, CaseView, PositionView, TimelineEntry } from './alarm-view.js';
export { ADMIN, actorOf } from './scope.js';
export type { Scope } from './scope.js';
export { recordCaseRead } from './case-reads.js';
export type { CaseReadVia } from './case-reads.js';
